#!/usr/bin/python3
"""bench/spectral_cmp.py A.json B.json — the largest relative difference of
the top singular values of matched tensors of two spectral results, each a
modelprint fingerprint JSON ({"fingerprints": [...]}) or the {name: [sv]}
of bench/spectral_ref.py --json. Prints: max_rel over top-K (K = argv[3],
default 10) per tensor class exact / randomized."""
import json
import sys


def load(p):
    d = json.load(open(p))
    if "fingerprints" in d:
        return {t["name"]: (t["sv"], t["sv_exact"])
                for t in d["fingerprints"][0]["tensors"] if t.get("sv")}
    return {k: (v, None) for k, v in d.items()}


a, b = load(sys.argv[1]), load(sys.argv[2])
k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
worst = {}
for name in a:
    if name not in b:
        continue
    sa, ex = a[name]
    sb, ex2 = b[name]
    kind = "exact" if (ex if ex is not None else ex2) else "randomized"
    for x, y in zip(sa[:k], sb[:k]):
        r = abs(x - y) / max(abs(y), 1e-300)
        worst[kind] = max(worst.get(kind, 0), r)
print(" ".join("%s %.2e" % kv for kv in sorted(worst.items())))
