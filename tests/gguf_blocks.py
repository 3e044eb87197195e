#!/usr/bin/env python3
"""gguf_blocks.py FILE.gguf ORACLE.jsonl TYPE_ID... — for check_ggml_kquants.

Parses the GGUF v3 header by itself (metadata skipped by type, tensor
infos, data aligned to general.alignment or 32) and prints, for each
tensor whose ggml type id is one of TYPE_ID, one line:
    name type_id n_elements absolute_offset sha256 sum sumsq
with the sha256/sum/sumsq of the oracle line of that tensor name."""
import json
import struct
import sys

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
          7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def main():
    path, oracle, ids = sys.argv[1], sys.argv[2], {int(a) for a in sys.argv[3:]}
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, data, pos)[0]
        pos += struct.calcsize(fmt)
        return v

    def string():
        nonlocal pos
        n = take("<Q")
        s = data[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    def value(t):
        if t in SCALAR:
            return take(SCALAR[t])
        if t == 8:
            return string()
        if t == 9:
            it, n = take("<I"), take("<Q")
            return [value(it) for _ in range(n)]
        raise SystemExit("%s: metadata type %d" % (path, t))

    if data[:4] != b"GGUF":
        raise SystemExit("%s: not GGUF" % path)
    pos = 4
    take("<I")
    n_tensors, n_kv = take("<Q"), take("<Q")
    align = 32
    for _ in range(n_kv):
        k = string()
        v = value(take("<I"))
        if k == "general.alignment":
            align = v
    infos = []
    for _ in range(n_tensors):
        name = string()
        nd = take("<I")
        n = 1
        for _ in range(nd):
            n *= take("<Q")
        t, off = take("<I"), take("<Q")
        infos.append((name, t, n, off))
    start = (pos + align - 1) // align * align
    orc = {}
    for line in open(oracle):
        o = json.loads(line)
        orc[o["name"]] = o
    for name, t, n, off in infos:
        if t in ids:
            o = orc[name]
            print(name, t, n, start + off, o["sha256_f32"],
                  repr(o["sum"]), repr(o["sumsq"]))


main()
