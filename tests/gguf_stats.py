#!/usr/bin/env python3
"""gguf_stats.py FILE.gguf ORACLE.jsonl FP.json TYPE_ID... — for tests/gguf.sh.

Dequantizes, with numpy in float32 as ggml's dequantize_row_q4_0, _q4_1,
_q4_K and _q6_K do (type ids 2, 3, 12 and 14), every tensor of FILE.gguf of
the given types (offsets from gguf_blocks.py), checks the values against
the oracle's SHA-256 of the float32 values, and compares the order
statistics of the `tensors` fingerprint FP.json with numpy's: median, q25,
q75, iqr, mad, min, max and sparsity bit for bit (and the mean of the
types read as (value, count) pairs, whose sums are compensated: math.fsum
over n), energy_concentration, mean and l2_norm to 1e-12 relative
(math.fsum sums). Prints one line per
tensor; exits 1 on any difference."""
import hashlib
import json
import math
import os
import subprocess
import sys

import numpy as np


def scale_min_k4(sc):
    """The 8 six-bit scales and mins of the 12-byte Q4_K packing, (nb, 8)."""
    d = np.zeros(sc.shape[:1] + (8,), np.uint8)
    m = np.zeros_like(d)
    d[:, :4] = sc[:, 0:4] & 63
    m[:, :4] = sc[:, 4:8] & 63
    d[:, 4:] = (sc[:, 8:12] & 0xF) | ((sc[:, 0:4] >> 6) << 4)
    m[:, 4:] = (sc[:, 8:12] >> 4) | ((sc[:, 4:8] >> 6) << 4)
    return d, m


def q4_k(raw):
    b = np.frombuffer(raw, np.uint8).reshape(-1, 144)
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    dmin = b[:, 2:4].copy().view(np.float16).astype(np.float32)
    s, m = scale_min_k4(b[:, 4:16])
    ds = d * s.astype(np.float32)          # (nb, 8), float32 products
    ms = dmin * m.astype(np.float32)
    qs = b[:, 16:].reshape(-1, 4, 32)      # four groups of 32 bytes
    q = np.empty((b.shape[0], 8, 32), np.float32)
    q[:, 0::2] = qs & 0xF
    q[:, 1::2] = qs >> 4
    return (ds[:, :, None] * q - ms[:, :, None]).reshape(-1)


def q6_k(raw):
    b = np.frombuffer(raw, np.uint8).reshape(-1, 210)
    d = b[:, 208:210].copy().view(np.float16).astype(np.float32)
    sc = b[:, 192:208].view(np.int8).astype(np.float32)
    y = np.empty((b.shape[0], 256), np.float32)
    for n in range(2):
        ql = b[:, 64 * n:64 * n + 64].astype(np.int32)
        qh = b[:, 128 + 32 * n:160 + 32 * n].astype(np.int32)
        s = sc[:, 8 * n:8 * n + 8]
        q = [(ql[:, :32] & 0xF) | ((qh & 3) << 4),
             (ql[:, 32:] & 0xF) | (((qh >> 2) & 3) << 4),
             (ql[:, :32] >> 4) | (((qh >> 4) & 3) << 4),
             (ql[:, 32:] >> 4) | (((qh >> 6) & 3) << 4)]
        for k in range(4):
            # scale of value l is sc[is + 2k], is = l // 16
            dsc = d * s[:, 2 * k:2 * k + 2]              # (nb, 2)
            dsc = np.repeat(dsc, 16, axis=1)             # (nb, 32)
            y[:, 128 * n + 32 * k:128 * n + 32 * k + 32] = \
                dsc * (q[k] - 32).astype(np.float32)
    return y.reshape(-1)


def q4_0(raw):
    b = np.frombuffer(raw, np.uint8).reshape(-1, 18)
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    q = np.concatenate([b[:, 2:] & 0xF, b[:, 2:] >> 4], axis=1)
    return ((q.astype(np.float32) - np.float32(8)) * d).reshape(-1)


def q4_1(raw):
    b = np.frombuffer(raw, np.uint8).reshape(-1, 20)
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    m = b[:, 2:4].copy().view(np.float16).astype(np.float32)
    q = np.concatenate([b[:, 4:] & 0xF, b[:, 4:] >> 4], axis=1)
    return (q.astype(np.float32) * d + m).reshape(-1)


# type id: dequantizer, values and bytes a block, read as pairs
DEQ = {2: (q4_0, 32, 18, True), 3: (q4_1, 32, 20, True),
       12: (q4_k, 256, 144, True), 14: (q6_k, 256, 210, False)}


def main():
    gguf, oracle, fpj = sys.argv[1:4]
    types = sys.argv[4:]
    here = os.path.dirname(os.path.abspath(__file__))
    rows = subprocess.run([sys.executable, os.path.join(here, "gguf_blocks.py"),
                           gguf, oracle] + types, check=True,
                          capture_output=True, text=True).stdout.split("\n")
    fp = json.load(open(fpj))["fingerprints"][0]
    tens = {t["name"]: t for t in fp["tensors"]}
    data = open(gguf, "rb").read()
    bad = checked = 0
    for row in filter(None, rows):
        name, tid, n, off, sha = row.split()[:5]
        n, off, tid = int(n), int(off), int(tid)
        fn, blk, by, pairs = DEQ[tid]
        x32 = fn(data[off:off + n // blk * by])
        if hashlib.sha256(x32.astype("<f4").tobytes()).hexdigest() != sha:
            print("dequantized values differ from the oracle:", name)
            bad += 1
            continue
        x = x32.astype(np.float64)
        med = np.median(x)
        q25, q75 = np.percentile(x, [25, 75])
        a = np.abs(x)
        k = max(n // 10, 1)
        top = np.sort(a)[n - k:]
        ss = math.fsum(x * x)
        want = {"median": med, "q25": q25, "q75": q75, "iqr": q75 - q25,
                "mad": np.median(np.abs(x - med)), "min": x.min(),
                "max": x.max(), "sparsity": np.count_nonzero(a < 1e-6) / n}
        close = {"energy_concentration": math.fsum(top * top) / ss,
                 "mean": math.fsum(x) / n, "l2_norm": math.sqrt(ss)}
        if pairs:
            # from (value, count) pairs with a compensated sum: the
            # correctly rounded sum over n
            want["mean"] = math.fsum(x) / n
            del close["mean"]
        st = tens[name]["stats"]
        for f, v in want.items():
            if st[f] != float(v):
                print(name, f, repr(st[f]), "numpy", repr(float(v)))
                bad += 1
        for f, v in close.items():
            if abs(st[f] - v) > 1e-12 * abs(v):
                print(name, f, repr(st[f]), "fsum", repr(v))
                bad += 1
        checked += 1
    print("checked", checked)
    sys.exit(1 if bad or not checked else 0)


if __name__ == "__main__":
    main()
