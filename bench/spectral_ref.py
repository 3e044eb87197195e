#!/usr/bin/python3
"""bench/spectral_ref.py — the `spectral` method's singular values in numpy,
the peer of `modelprint fingerprint --method spectral` in bench/spectral.sh.

    spectral_ref.py MODEL.safetensors [--show-config] [--json OUT]

The algorithm of DESIGN.md §5: every floating tensor with >= 2 dimensions as
an output-axis (first) x rest matrix; exact SVD while min(rows, cols) <= 1024,
else a randomized SVD of the top k = 256 (oversampling 10, two power
iterations, QR between them), float32 products (OpenBLAS through numpy).
The file is memory-mapped, as modelprint does. --show-config prints which
OpenBLAS kernel numpy uses; --json writes {name: [sigma...]} for checks.
"""
import json
import mmap
import struct
import sys

import numpy as np

MAX_SV, EXACT_LIMIT, OVERSAMPLE, POWER = 256, 1024, 10, 2
DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64}


def tensors(path):
    f = open(path, "rb")
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    (hlen,) = struct.unpack("<Q", mm[:8])
    header = json.loads(mm[8:8 + hlen])
    base = 8 + hlen
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] not in DTYPES:
            continue
        a, b = t["data_offsets"]
        if t["dtype"] == "BF16":
            raw = np.frombuffer(mm, np.uint16, (b - a) // 2, base + a)
            x = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            x = np.frombuffer(mm, DTYPES[t["dtype"]], (b - a) //
                              np.dtype(DTYPES[t["dtype"]]).itemsize, base + a)
        yield name, x.reshape(t["shape"])


def top_sv(a, seed=0):
    m = min(a.shape)
    k = min(MAX_SV, m)
    if m <= EXACT_LIMIT:
        return np.linalg.svd(a.astype(np.float32), compute_uv=False)[:k]
    mat = a if a.shape[0] <= a.shape[1] else a.T  # m x n, m <= n
    if mat.dtype != np.float32:
        mat = mat.astype(np.float32)
    l = min(k + OVERSAMPLE, m)
    rng = np.random.default_rng(seed)
    omega = rng.standard_normal((mat.shape[1], l), dtype=np.float32)
    q, _ = np.linalg.qr(mat @ omega)
    for _ in range(POWER):
        q, _ = np.linalg.qr(mat @ (mat.T @ q))
    b = q.T @ mat
    return np.linalg.svd(b, compute_uv=False)[:k]


def main():
    args = sys.argv[1:]
    if "--show-config" in args:
        try:
            import threadpoolctl
            for i in threadpoolctl.threadpool_info():
                print("numpy BLAS: %s %s, kernel %s, %s threads" % (
                    i.get("internal_api"), i.get("version"),
                    i.get("architecture"), i.get("num_threads")))
        except ImportError:
            np.show_config()
        return
    out = None
    if "--json" in args:
        out = args[args.index("--json") + 1]
    res = {}
    for name, x in tensors(args[0]):
        if x.ndim < 2:
            continue
        a = x.reshape(x.shape[0], -1)
        if a.shape[0] < 2 or a.shape[1] < 2:
            continue
        res[name] = [float(v) for v in top_sv(a)]
    if out:
        with open(out, "w") as f:
            json.dump(res, f)


main()
