#!/usr/bin/python3
"""bench/sweep_ref.py — the reference for bench/sweep.sh: the algorithm of
seed 001 with torch and numpy on a sweep manifest (modelprint-files(5)).

    sweep_ref.py MANIFEST [--n-evecs 4] [--check OURS.json]

TN similarity from the explicit symmetrised (P, 2P, 2P) tensor of every
model (einsum, then the Gram matrix of the flattened tensors), logits by a
forward pass over all P^2 one-hot inputs, the logit cosine averaged over
inputs (eps 1e-8), per class the eigenvectors of B_r = (C_r + C_r^T)/2 by
torch.linalg.eigh sorted by |eigenvalue|, |rfft| of the first P entries of
the top n-evecs weighted by |eigenvalue|, and the JS divergence summed
over classes. With --check, prints the largest absolute difference of each
matrix from the `modelprint sweep --json` output OURS.json (on stderr) and
fails when one exceeds 1e-8. Needs python3-torch and python3-numpy."""
import argparse
import json
import os
import sys

import numpy as np
import torch


def read_st(path):
    """The tensors of a safetensors file as float64 numpy arrays."""
    with open(path, "rb") as f:
        b = f.read()
    n = int.from_bytes(b[:8], "little")
    h = json.loads(b[8:8 + n])
    dt = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        a = np.frombuffer(b[8 + n + s:8 + n + e], dtype=dt[v["dtype"]])
        out[k] = a.astype(np.float64).reshape(v["shape"])
    return out


def js(p, q):
    """JS divergences of p (classes, nk) from each q[j] (n, classes, nk),
    summed over classes: n values."""
    p = p.unsqueeze(0).expand_as(q)
    m = torch.clamp(0.5 * (p + q), min=1e-12)
    s = torch.zeros(q.shape[0], dtype=q.dtype)
    for x in (p, q):
        mask = x > 1e-12
        t = torch.where(mask, x * torch.log(torch.where(mask, x, 1.0) / m), 0.0)
        s = s + 0.5 * t.sum(dim=(1, 2))
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--n-evecs", type=int, default=4)
    ap.add_argument("--check")
    a = ap.parse_args()
    man = json.load(open(a.manifest))
    base = os.path.dirname(a.manifest)
    P = man["P"]
    models = []
    for m in man["models"]:
        t = read_st(os.path.join(base, m["file"]))
        W = torch.from_numpy(t["bi_linear.weight"])
        D = torch.from_numpy(t["projection.weight"])
        d = m["d"]
        models.append((W[:d], W[d:], D))
    n = len(models)

    # TN: explicit symmetrised tensors, as the seed builds them
    S = torch.empty((n, P * 2 * P * 2 * P), dtype=torch.float64)
    for i, (L, R, D) in enumerate(models):
        T = torch.einsum("rh,hi,hj->rij", D, L, R)
        S[i] = (0.5 * (T + T.transpose(1, 2))).reshape(-1)
    G = S @ S.T
    nrm = torch.sqrt(torch.diag(G))
    tn = G / torch.outer(nrm, nrm)
    del S

    # logits by a forward pass over every input (a, b)
    x = torch.zeros((P * P, 2 * P), dtype=torch.float64)
    ab = torch.arange(P * P)
    x[ab, ab // P] = 1
    x[ab, P + ab % P] = 1
    LG = torch.stack([((x @ L.T) * (x @ R.T)) @ D.T for L, R, D in models])
    lnrm = torch.linalg.norm(LG, dim=2)
    lc = torch.empty((n, n), dtype=torch.float64)
    for i in range(n):
        dot = (LG[i].unsqueeze(0) * LG).sum(dim=2)
        den = torch.clamp(lnrm[i].unsqueeze(0) * lnrm, min=1e-8)
        lc[i] = (dot / den).mean(dim=1)
    target = (ab // P + ab % P) % P
    acc = (LG.argmax(dim=2) == target).double().mean(dim=1)

    # frequency distributions: eigh of every class matrix, rfft
    F = []
    for L, R, D in models:
        C = torch.einsum("rh,hi,hj->rij", D, L, R)
        B = 0.5 * (C + C.transpose(1, 2))
        w, V = torch.linalg.eigh(B)
        order = torch.argsort(-w.abs(), dim=1, stable=True)[:, :a.n_evecs]
        dist = torch.zeros((P, P // 2 + 1), dtype=torch.float64)
        for r in range(P):
            top = V[r][:P, order[r]]
            mag = torch.fft.rfft(top, dim=0).abs()
            dist[r] = (mag * w[r, order[r]].abs()).sum(dim=1)
        F.append(dist / dist.sum(dim=1, keepdim=True))
    F = torch.stack(F)
    jd = torch.stack([js(F[i], F) for i in range(n)])

    if a.check:
        got = json.load(open(a.check))
        mats = got["similarity"]["matrices"]["sweep"]
        worst = 0.0
        for name, ref in (("tn", tn), ("logit_cosine", lc), ("freq_js", jd)):
            ours = np.array(mats[name]["values"], dtype=np.float64)
            diff = float(np.max(np.abs(ours - ref.numpy())))
            print("%s max abs diff %.3g" % (name, diff), file=sys.stderr)
            worst = max(worst, diff)
        ours_acc = np.array([m["accuracy"] for m in got["models"]])
        diff = float(np.max(np.abs(ours_acc - acc.numpy())))
        print("accuracy max abs diff %.3g" % diff, file=sys.stderr)
        worst = max(worst, diff)
        if not worst <= 1e-8:
            sys.exit(1)


if __name__ == "__main__":
    main()
