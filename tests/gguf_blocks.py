#!/usr/bin/env python3
"""gguf_blocks.py FILE.gguf ORACLE.jsonl TYPE_ID... — for check_ggml_kquants.

Parses the GGUF v3 header by itself (metadata skipped by type, tensor
infos, data aligned to general.alignment or 32) and prints, for each
tensor whose ggml type id is one of TYPE_ID, one line:
    name type_id n_elements absolute_offset sha256 sum sumsq
with the sha256/sum/sumsq of the oracle line of that tensor name.

gguf_blocks.py --split FILE.gguf N PREFIX — for tests/gguf.sh: write the
tensors of FILE.gguf into N GGUF v3 shards PREFIX-0000k-of-0000N.gguf as
llama.cpp's gguf-split lays them out (consecutive tensors, every
shard's data aligned; the metadata in the first, split.no, split.count
and split.tensors.count in each), their bytes copied unchanged."""
import json
import struct
import sys

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
          7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def split(path, nshards, prefix):
    data = open(path, "rb").read()
    pos = 24
    n_tensors, n_kv = struct.unpack_from("<QQ", data, 8)
    align = 32

    def skip(t):
        nonlocal pos
        if t == 8:
            pos += 8 + struct.unpack_from("<Q", data, pos)[0]
        elif t == 9:
            it, n = struct.unpack_from("<IQ", data, pos)
            pos += 12
            for _ in range(n):
                skip(it)
        else:
            pos += struct.calcsize(SCALAR[t])

    kvs = []
    for _ in range(n_kv):
        start = pos
        n = struct.unpack_from("<Q", data, pos)[0]
        key = data[pos + 8:pos + 8 + n].decode()
        pos += 8 + n
        t = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        if key == "general.alignment":
            align = struct.unpack_from("<I", data, pos)[0]
        skip(t)
        kvs.append(data[start:pos])
    infos = []
    for _ in range(n_tensors):
        n = struct.unpack_from("<Q", data, pos)[0]
        name = data[pos + 8:pos + 8 + n]
        pos += 8 + n
        nd = struct.unpack_from("<I", data, pos)[0]
        dims = struct.unpack_from("<%dQ" % nd, data, pos + 4)
        pos += 4 + 8 * nd
        t, off = struct.unpack_from("<IQ", data, pos)
        pos += 12
        infos.append([name, dims, t, off])
    base = (pos + align - 1) // align * align
    ends = sorted(i[3] for i in infos)[1:] + [len(data) - base]
    for i in infos:  # stored size: up to the next tensor's offset
        i.append(min(e for e in ends if e > i[3]) - i[3] if i[3] < ends[-1]
                 else 0)

    def kv(key, t, fmt, v):
        k = key.encode()
        return struct.pack("<Q", len(k)) + k + struct.pack("<I" + fmt, t, v)

    per = (len(infos) + nshards - 1) // nshards
    for s in range(nshards):
        part = infos[s * per:(s + 1) * per]
        meta = (kvs if s == 0 else []) + [
            kv("split.no", 2, "H", s), kv("split.count", 2, "H", nshards),
            kv("split.tensors.count", 5, "i", len(infos))]
        head = b"GGUF" + struct.pack("<IQQ", 3, len(part), len(meta))
        head += b"".join(meta)
        body, tinfo = b"", b""
        for name, dims, t, off, size in part:
            body += b"\0" * (-len(body) % align)
            tinfo += struct.pack("<Q", len(name)) + name
            tinfo += struct.pack("<I%dQ" % len(dims), len(dims), *dims)
            tinfo += struct.pack("<IQ", t, len(body))
            body += data[base + off:base + off + size]
        head += tinfo
        head += b"\0" * (-len(head) % align)
        with open("%s-%05d-of-%05d.gguf" % (prefix, s + 1, nshards),
                  "wb") as f:
            f.write(head + body)


def main():
    if sys.argv[1] == "--split":
        split(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
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
