#!/usr/bin/env python3
"""gguf_quant.py — GGUF files quantized here, for tests/gguf-quant.sh.

    gguf_quant.py quant SRC TYPE OUT.gguf [--noise S --seed N --save-src F]
                  [--base-model NAME]
        Read SRC (a safetensors file of F32 tensors, or a GGUF written by
        this script), optionally add Gaussian noise of standard deviation
        S times each tensor's own to every matrix (a stand-in fine-tune,
        saved as safetensors to F), quantize every matrix to TYPE (Q8_0 or
        Q4_0, by ggml's reference rounding: Q8_0 d = max|x| / 127, code
        round(x / d); Q4_0 d = x_max / -8 where x_max is the value of
        largest magnitude, code min(15, floor(x / d + 8.5))), keep 1-D
        tensors F32, and write a GGUF v3 file with the tensors' own names.
        Prints one JSON line: the error ratio over all quantized values,
        sqrt(sum (u - src)^2 / sum step^2 / 12), and the share within half
        a step, computed here from the values written.
    gguf_quant.py ratio Q.gguf REF
        The same ratio of the quantized tensors of Q.gguf (written by this
        script) against REF (safetensors or such a GGUF).
    gguf_quant.py sketchratio Q.gguf REF FP.json
        The same ratio over REF's sketch positions only: FP.json is
        `modelprint fingerprint --json` of REF; the positions are found
        from its sketches (one per stratum of numel / sketch values, the
        element of that stratum equal to the sketch value), also printed
        as "values".
"""
import json
import struct
import sys

import numpy as np

TYPES = {"F32": 0, "Q4_0": 2, "Q8_0": 8}
FTYPE = {"Q4_0": 2, "Q8_0": 7}


def read_safetensors_typed(path):
    """{name: (values, dtype)} of a safetensors file of F32, F16 and BF16
    tensors: F16 values as float16, the others as float32."""
    data = open(path, "rb").read()
    n = struct.unpack_from("<Q", data, 0)[0]
    head = json.loads(data[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        raw = data[8 + n + a:8 + n + b]
        if v["dtype"] == "BF16":
            x = (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4")
        else:
            x = np.frombuffer(raw, {"F32": "<f4", "F16": "<f2"}[v["dtype"]])
        out[k] = (x.reshape(v["shape"]).copy(), v["dtype"])
    return out


def read_safetensors(path):
    """{name: float32 values} of a safetensors file of F32 tensors."""
    out = {}
    for k, (v, dt) in read_safetensors_typed(path).items():
        assert dt == "F32", (k, dt)
        out[k] = v
    return out


def bf16(x):
    """16-bit patterns of float32 array x rounded to bfloat16 (nearest,
    ties to even)."""
    u = x.astype("<f4").view("<u4").astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")


def write_safetensors(path, tensors, dtype="F32"):
    """tensors: {name: float32 array}, written as F32 or BF16."""
    head, off, blobs = {}, 0, []
    for k, v in tensors.items():
        b = (bf16(v) if dtype == "BF16" else v.astype("<f4")).tobytes()
        head[k] = {"dtype": dtype, "shape": list(v.shape),
                   "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(head).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def f16(x):
    return np.float32(np.float16(x))


def q8_0(x):
    """Blocks of 32 of a flat float32 array: (bytes, values, steps)."""
    out, vals, steps = bytearray(), [], []
    for blk in x.reshape(-1, 32):
        amax = np.float32(np.max(np.abs(blk)))
        d = np.float32(amax / np.float32(127))
        idv = np.float32(1) / d if d else np.float32(0)
        q = np.clip(np.round(blk * idv), -127, 127).astype(np.int8)
        dh = np.float16(d)
        out += dh.tobytes() + q.tobytes()
        vals.append(np.float32(dh) * q.astype(np.float32))
        steps.append(np.full(32, abs(np.float32(dh)), np.float32))
    return bytes(out), np.concatenate(vals), np.concatenate(steps)


def q4_0(x):
    out, vals, steps = bytearray(), [], []
    for blk in x.reshape(-1, 32):
        i = int(np.argmax(np.abs(blk)))
        d = np.float32(blk[i] / np.float32(-8))
        idv = np.float32(1) / d if d else np.float32(0)
        q = np.minimum(15, (blk * idv + np.float32(8.5)).astype(np.int8))
        q = q.astype(np.uint8)
        dh = np.float16(d)
        packed = (q[:16] | (q[16:] << 4)).astype(np.uint8)
        out += dh.tobytes() + packed.tobytes()
        vals.append(np.float32(dh) * (q.astype(np.float32) - 8))
        steps.append(np.full(32, abs(np.float32(dh)), np.float32))
    return bytes(out), np.concatenate(vals), np.concatenate(steps)


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf(path, tensors, ftype, base_model, arch="llama", extra=()):
    """tensors: list of (name, shape, type id, bytes); extra: more
    metadata as (key, GGUF value type, packed value)."""
    kv = [("general.architecture", 8, gguf_string(arch)),
          ("general.name", 8, gguf_string("gguf_quant test")),
          ("general.file_type", 4, struct.pack("<I", ftype))] + list(extra)
    if base_model:
        kv += [("general.base_model.count", 4, struct.pack("<I", 1)),
               ("general.base_model.0.name", 8, gguf_string(base_model))]
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for k, t, v in kv:
        head += gguf_string(k) + struct.pack("<I", t) + v
    off, data = 0, b""
    for name, shape, t, b in tensors:
        head += gguf_string(name) + struct.pack("<I", len(shape))
        for d in reversed(shape):
            head += struct.pack("<Q", d)
        head += struct.pack("<IQ", t, off)
        pad = -len(b) % 32
        data += b + b"\0" * pad
        off += len(b) + pad
    head += b"\0" * (-len(head) % 32)
    with open(path, "wb") as f:
        f.write(head + data)


def read_gguf(path):
    """Tensors of a GGUF this script wrote, dequantized, and their steps."""
    data = open(path, "rb").read()
    pos = 4

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = data[pos:pos + n].decode()
        pos += n
        return s
    _, nt, nkv = take("<IQQ")
    for _ in range(nkv):
        string()
        t = take("<I")
        if t == 8:
            string()
        else:
            take("<I")
    infos = []
    for _ in range(nt):
        name = string()
        nd = take("<I")
        dims = [take("<Q") for _ in range(nd)]
        t, off = take("<IQ")
        infos.append((name, list(reversed(dims)), t, off))
    pos += -pos % 32
    out = {}
    for name, shape, t, off in infos:
        n = int(np.prod(shape))
        p = pos + off
        if t == 0:
            out[name] = (np.frombuffer(data, "<f4", n, p).reshape(shape),
                         None)
            continue
        bs = 34 if t == 8 else 18
        vals, steps = [], []
        for i in range(n // 32):
            blk = data[p + i * bs:p + (i + 1) * bs]
            d = np.float32(np.frombuffer(blk[:2], "<f2")[0])
            if t == 8:
                q = np.frombuffer(blk[2:], np.int8).astype(np.float32)
            else:
                b = np.frombuffer(blk[2:], np.uint8)
                q = np.concatenate([b & 15, b >> 4]).astype(np.float32) - 8
            vals.append(d * q)
            steps.append(np.full(32, abs(d), np.float32))
        out[name] = (np.concatenate(vals).reshape(shape),
                     np.concatenate(steps).reshape(shape))
    return out


def read_any(path):
    if path.endswith(".gguf"):
        return {k: v for k, (v, _) in read_gguf(path).items()}
    return read_safetensors(path)


def ratio(pairs):
    sdd = sexp = 0.0
    within = n = 0
    for u, r, s in pairs:
        d = u.astype(np.float64) - r.astype(np.float64)
        s = s.astype(np.float64)
        sdd += float(np.sum(d * d))
        sexp += float(np.sum(s * s) / 12)
        within += int(np.sum(np.abs(d) <= 0.5 * s * (1 + 1e-3) +
                             1e-3 * np.abs(r)))
        n += d.size
    return {"ratio": (sdd / sexp) ** 0.5, "within": within / n}


def sketch_positions(ref, fp):
    """{name: element positions} of REF's sketches in fingerprint fp."""
    import base64
    out = {}
    for t in json.load(open(fp))["fingerprints"][0]["tensors"]:
        if "sketch" not in t:
            continue
        sk = np.frombuffer(base64.b64decode(t["sketch"]), "<f4")
        v = ref[t["name"]].reshape(-1).astype("<f4")
        n, k = v.size, sk.size
        pos = []
        for i in range(k):
            a, z = i * n // k, (i + 1) * n // k
            hit = np.nonzero(v[a:z].view("<u4") == sk[i:i + 1].view("<u4"))[0]
            assert len(hit) >= 1, (t["name"], i)
            pos.append(a + int(hit[0]))
        out[t["name"]] = np.array(pos)
    return out


def main():
    a = sys.argv[1:]
    if a[0] == "sketchratio":
        q, ref = read_gguf(a[1]), read_any(a[2])
        pos = sketch_positions(ref, a[3])
        pairs = [(v.reshape(-1)[pos[k]], ref[k].reshape(-1)[pos[k]],
                  s.reshape(-1)[pos[k]]) for k, (v, s) in q.items()
                 if s is not None]
        r = ratio(pairs)
        r["values"] = sum(p[0].size for p in pairs)
        print(json.dumps(r))
        return
    if a[0] == "ratio":
        q, ref = read_gguf(a[1]), read_any(a[2])
        print(json.dumps(ratio([(v, ref[k], s) for k, (v, s) in q.items()
                                if s is not None])))
        return
    src, typ, out = a[1], a[2], a[3]
    opts = dict(zip(a[4::2], a[5::2]))
    tensors = read_any(src)
    rng = np.random.default_rng(int(opts.get("--seed", "1")))
    noise = float(opts.get("--noise", "0"))
    if noise:
        tensors = {k: (v + rng.normal(0, noise * float(np.std(v)), v.shape)
                       .astype(np.float32) if v.ndim >= 2 else v)
                   for k, v in tensors.items()}
    if "--save-src" in opts:
        write_safetensors(opts["--save-src"], tensors)
    rows, pairs = [], []
    for k, v in tensors.items():
        if v.ndim < 2:
            rows.append((k, v.shape, 0, v.astype("<f4").tobytes()))
            continue
        b, vals, steps = (q8_0 if typ == "Q8_0" else q4_0)(
            v.astype(np.float32).ravel())
        rows.append((k, v.shape, TYPES[typ], b))
        pairs.append((vals, v.ravel(), steps))
    write_gguf(out, rows, FTYPE[typ], opts.get("--base-model"))
    print(json.dumps(ratio(pairs)))


if __name__ == "__main__":
    main()
