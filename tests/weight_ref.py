#!/usr/bin/python3
"""weight_ref.py: the `weight` fingerprint method written from its
definition (DESIGN.md section 5, seed 000's workflow) with numpy, and the
models tests/weight.sh fingerprints.

  weight_ref.py gen DIR          write the test models into DIR
  weight_ref.py check MODEL SIZE JSON
      compare modelprint's fingerprint (JSON of `fingerprint --json`) of
      the safetensors file MODEL with the reference: the vector to 1e-9 and
      the multiplication order (the matrix-chain programme's).

Definition: every floating tensor with at least two dimensions as a matrix
(first axis x the others), sorted by element count descending, ties by
name; the chain starts with the first and takes each next matrix whose row
count equals the running product's column count; each operand is divided
by its largest absolute value; the singular values of the product, the
largest size**2 of them, padded with zeros to size**2 values, divided by
their Euclidean norm.
"""
import json
import struct
import sys

import numpy as np

DT = {"F32": np.float32, "F64": np.float64, "F16": np.float16}


def read_st(path):
    """The tensors of a safetensors file, parsed here from its bytes."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    hdr = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, d in hdr.items():
        if name == "__metadata__":
            continue
        a, b = d["data_offsets"]
        out[name] = np.frombuffer(
            data[base + a : base + b], dtype=DT[d["dtype"]]
        ).reshape(d["shape"])
    return out


def write_st(path, tensors):
    hdr, blobs, off = {}, [], 0
    for name, (a, dt) in tensors.items():
        b = np.ascontiguousarray(a, dtype=DT[dt]).tobytes()
        hdr[name] = {"dtype": dt, "shape": list(a.shape),
                     "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def chain(tensors):
    mats = []
    for name, a in tensors.items():
        if a.ndim >= 2 and a.size > 0:
            mats.append((name, a.astype(np.float64).reshape(a.shape[0], -1)))
    mats.sort(key=lambda t: (-t[1].size, t[0]))
    ch = [mats[0]]
    for m in mats[1:]:
        if m[1].shape[0] == ch[-1][1].shape[1]:
            ch.append(m)
    return ch


def dp_order(dims, names):
    """Textbook matrix-chain order (CLRS 15.2), as "(a (b c))"; ties go to
    the first split."""
    n = len(names)
    cost = [[0.0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for ln in range(2, n + 1):
        for i in range(n - ln + 1):
            j = i + ln - 1
            cost[i][j] = float("inf")
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def p(i, j):
        if i == j:
            return names[i]
        k = split[i][j]
        return "(" + p(i, k) + " " + p(k + 1, j) + ")"

    return p(0, n - 1)


def reference(tensors, size):
    ch = chain(tensors)
    prod = None
    for _, m in ch:
        mx = np.max(np.abs(m))
        m = m / mx if mx > 0 else m
        prod = m if prod is None else prod @ m
    sv = np.linalg.svd(prod, compute_uv=False)[: size * size]
    v = np.zeros(size * size)
    v[: len(sv)] = sv
    nrm = np.linalg.norm(v)
    if nrm > 0:
        v /= nrm
    dims = [m.shape[0] for _, m in ch] + [ch[-1][1].shape[1]]
    return v, dp_order(dims, [n for n, _ in ch]), ch


def gen(d):
    rng = np.random.default_rng(14)
    r = rng.standard_normal
    # chain a(40x30) b(30x5) c(5x20) d(20x2): the programme gives
    # (a (b (c d))); e (7x4) does not fit, bias is 1-D
    write_st(d + "/dp.safetensors", {
        "a": (r((40, 30)), "F32"), "b": (r((30, 5)), "F32"),
        "c": (r((5, 20)), "F32"), "d": (r((20, 2)), "F32"),
        "e": (r((7, 4)), "F32"), "bias": (r(5), "F32")})
    # the same matrices as a TF.js model: kernels stored input-first
    # (transposed), c as a 4-D kernel (1, 1, 20, 5)
    import os
    os.makedirs(d + "/tf", exist_ok=True)
    st_t = read_st(d + "/dp.safetensors")
    ws, blob = [], b""
    for name in ["a", "b", "c", "d", "e", "bias"]:
        a = st_t[name]
        t = a.T.copy() if a.ndim == 2 else a
        if name == "c":
            t = t.reshape(1, 1, 20, 5)
        ws.append({"name": name, "shape": list(t.shape), "dtype": "float32"})
        blob += np.ascontiguousarray(t, dtype=np.float32).tobytes()
    with open(d + "/tf/w.bin", "wb") as f:
        f.write(blob)
    with open(d + "/tf/model.json", "w") as f:
        json.dump({"modelTopology": {}, "weightsManifest":
                   [{"paths": ["w.bin"], "weights": ws}]}, f)
    # no chainable pair: only the largest matrix (6x4x2 as 6x8)
    write_st(d + "/single.safetensors", {
        "big": (r((6, 4, 2)), "F32"), "x": (r((5, 3)), "F32"),
        "y": (r((3, 9)), "F32")})
    # equal sizes: ties by name (p before q), chain p(4x4) q(4x4) then s
    write_st(d + "/ties.safetensors", {
        "q": (r((4, 4)), "F64"), "p": (r((4, 4)), "F16"),
        "s": (r((4, 2)), "F32")})
    # three models for `run`: m2 is m1 scaled (same fingerprint), m3 other
    base = {"w1": r((6, 5)), "w2": r((5, 4))}
    write_st(d + "/m1.safetensors", {k: (v, "F64") for k, v in base.items()})
    write_st(d + "/m2.safetensors",
             {k: (3 * v, "F64") for k, v in base.items()})
    write_st(d + "/m3.safetensors",
             {"w1": (r((6, 5)), "F64"), "w2": (r((5, 4)), "F64")})


def check(model, size, fpjson):
    with open(fpjson) as f:
        fp = json.load(f)["fingerprints"][0]
    v, order, _ = reference(read_st(model), size)
    got = np.array(fp["vector"])
    ok = True
    if got.shape != v.shape or not np.allclose(got, v, rtol=0, atol=1e-9):
        print("vector differs:", got[:8], "reference", v[:8])
        ok = False
    if fp.get("vector_note") != order:
        print("order", fp.get("vector_note"), "reference", order)
        ok = False
    return ok


def matrix(paths, size):
    """The l1 similarity matrix of the reference fingerprints."""
    vs = [np.sort(reference(read_st(p), size)[0]) for p in paths]
    return [[1 - np.abs(a - b).sum() / (np.abs(a).sum() + np.abs(b).sum())
             for b in vs] for a in vs]


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif sys.argv[1] == "check":
        sys.exit(0 if check(sys.argv[2], int(sys.argv[3]), sys.argv[4]) else 1)
    elif sys.argv[1] == "matrix":
        print(json.dumps(matrix(sys.argv[3:], int(sys.argv[2]))))
