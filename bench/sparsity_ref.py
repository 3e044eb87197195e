#!/usr/bin/python3
"""bench/sparsity_ref.py — the reference for bench/sparsity.sh: the
algorithm of the research scripts of seed 004 (hamming_cluster_analysis.py,
multi_execution_hamming_analysis.py) with torch and scikit-learn.

    sparsity_ref.py hamming FILE.pt [--n-features 128] [--n-clusters 8] [--seed 42]
    sparsity_ref.py multi FILE.pt --n-executions 10 [same options]

Load the matrix with torch.load, take the mask of its non-zero weights,
Hamming distances from one feature (a row) to every other by torch ops,
the n nearest, KMeans(k-means++, n_init=10, random_state=seed) over them
and the seed's metrics. Needs python3-torch and python3-sklearn."""
import argparse
import sys

import numpy as np
import torch
from scipy.spatial.distance import pdist
from sklearn.cluster import KMeans


def load(path):
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict):
        obj = next(v for v in obj.values() if torch.is_tensor(v) and v.dim() == 2)
    return obj


def analyse(mask, idx, n_features, n_clusters, seed):
    main = mask[idx]
    dist = (mask != main.unsqueeze(0)).sum(dim=1)
    dist[idx] = torch.iinfo(dist.dtype).max
    top = torch.topk(dist, n_features, largest=False)
    feats = mask[top.indices].float().numpy()
    km = KMeans(n_clusters=n_clusters, init="k-means++", n_init=10,
                random_state=seed).fit(feats)
    cen = km.cluster_centers_
    within = float(np.mean(np.linalg.norm(feats - cen[km.labels_], axis=1)))
    between = float(np.mean(pdist(cen)))
    d = top.values.numpy()
    return {
        "min_distance": int(d.min()), "max_distance": int(d.max()),
        "distance_range": int(d.max() - d.min()),
        "within": within, "between": between,
        "separation_ratio": between / within if within > 0 else float("nan"),
        "inertia": float(km.inertia_),
        "size_std": float(np.std(np.bincount(km.labels_, minlength=n_clusters))),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["hamming", "multi"])
    ap.add_argument("file")
    ap.add_argument("--n-features", type=int, default=128)
    ap.add_argument("--n-clusters", type=int, default=8)
    ap.add_argument("--n-executions", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    w = load(a.file)
    mask = w != 0
    rng = np.random.default_rng(a.seed)
    runs = 1 if a.mode == "hamming" else a.n_executions
    res = []
    for e in range(runs):
        idx = int(rng.integers(mask.shape[0]))
        res.append(analyse(mask, idx, a.n_features, a.n_clusters, a.seed + e))
    for k in res[0]:
        v = np.array([r[k] for r in res], dtype=float)
        print(f"{k:18s} {np.nanmean(v):14.6f} +- {np.nanstd(v):.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
