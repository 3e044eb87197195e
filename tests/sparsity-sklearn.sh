#!/bin/sh
# tests/sparsity-sklearn.sh — `modelprint sparsity hamming` against
# scikit-learn and numpy run here: masks of well-separated clusters (so any
# correct k-means finds the same partition), written as .npy; our Hamming
# distances against numpy's and scipy's count of differing positions, our
# nearest features against numpy's sort, our labels (up to renaming) and
# inertia against sklearn's KMeans, and within, between, ratio, grade,
# balance and size std against numpy by the definitions of
# modelprint-sparsity(1). Fails (never skips) without python3-sklearn:
# autogen.sh --deps installs it.
. "$MP_SRCDIR/tests/lib.sh"

PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy, scipy, sklearn' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || { echo "FAIL: needs python3 with numpy, scipy and sklearn: apt-get install python3-sklearn (or ./autogen.sh --deps)"; exit 1; }

# gen NAME WIDTH SIZES FLIPS SEED: 8 clusters around a base mask, cluster
# c (c >= 1) with block c of the 8 blocks of the width flipped, of SIZES
# (comma-separated, summing to 128) members, each with FLIPS random bits
# flipped; the query is the base itself, in cluster 0 beside its members:
# the 128 nearest are the clusters' members. Then 40 far decoys (the base
# complemented). Rows are shuffled; the query's row is in NAME.q.
gen() {
	"$PY" - "$T/$1" "$2" "$3" "$4" "$5" <<'PY'
import sys
import numpy as np
out, width, flips, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[4]), int(sys.argv[5])
sizes = [int(x) for x in sys.argv[3].split(',')]
sizes = sizes * 8 if len(sizes) == 1 else sizes
assert len(sizes) == 8 and sum(sizes) == 128
rng = np.random.default_rng(seed)
base = rng.random(width) < 0.5
block = width // 8
rows = []
for c in range(8):
    proto = base.copy()
    if c:
        proto[c * block:(c + 1) * block] ^= True
    for m in range(sizes[c] + (c == 0)):
        x = proto.copy()
        if not (c == 0 and m == 0):
            x[rng.choice(width, flips, replace=False)] ^= True
        rows.append(x)
for d in range(40):
    x = ~base
    x[rng.choice(width, flips, replace=False)] ^= True
    rows.append(x)
mask = np.array(rows)
perm = rng.permutation(len(mask))
mask = mask[perm]
q = int(np.argsort(perm)[0])
w = (rng.standard_normal(mask.shape) * mask).astype(np.float32)
w[mask & (w == 0)] = 1.0
np.save(out + '.npy', w)
open(out + '.q', 'w').write('%d\n' % q)
PY
}

check() { # NAME SEED: hamming --json against sklearn and numpy
	q=$(cat "$T/$1.q")
	"$MP_BIN" sparsity hamming "$T/$1.npy" --feature-idx "$q" --n-features 128 \
		--n-clusters 8 --seed "$2" --json > "$T/$1.json" || { fail "$1: hamming exit"; return; }
	"$PY" - "$T/$1.npy" "$T/$1.json" "$q" "$2" <<'PY' || fail "$1: differs from sklearn/numpy"
import json, math, sys
import numpy as np
from scipy.spatial.distance import cdist, pdist
from sklearn.cluster import KMeans
w, j, q, seed = np.load(sys.argv[1]), json.load(open(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
mask = w != 0
n, width = mask.shape
bad = []
def close(name, ours, ref, tol=1e-9):
    if not abs(ours - ref) <= tol * max(1.0, abs(ref)):
        bad.append('%s: ours %r, reference %r' % (name, ours, ref))
# Hamming distances: numpy's count of differing positions and scipy's
d = (mask != mask[q]).sum(axis=1)
ds = np.rint(cdist(mask[q:q + 1].astype(float), mask.astype(float), 'hamming')[0] * width).astype(int)
if not (d == ds).all():
    bad.append('numpy and scipy disagree')
others = np.array([i for i in range(n) if i != q])
order = others[np.lexsort((others, d[others]))][:128]  # nearest first, ties by index
idx = [e['feature'] for e in j['nearest']]
dist = [e['distance'] for e in j['nearest']]
if idx != order.tolist():
    bad.append('nearest features %r, numpy %r' % (idx[:8], order[:8].tolist()))
if dist != d[idx].tolist():
    bad.append('distances %r, numpy %r' % (dist[:8], d[idx][:8].tolist()))
X = mask[idx].astype(np.float64)
km = KMeans(n_clusters=8, init='k-means++', n_init=10, random_state=seed).fit(X)
ours = np.array([e['cluster'] for e in j['nearest']])
pairs = set(zip(ours.tolist(), km.labels_.tolist()))
if len(pairs) != 8 or len({a for a, _ in pairs}) != 8 or len({b for _, b in pairs}) != 8:
    bad.append('labels differ beyond renaming: %r' % sorted(pairs))
r = j['runs'][0]
close('inertia vs sklearn', r['inertia'], km.inertia_, 1e-9)
# the metrics by their definitions, from sklearn's partition
cen = np.array([X[km.labels_ == c].mean(axis=0) for c in range(8)])
within = np.linalg.norm(X - cen[km.labels_], axis=1).mean()
between = pdist(cen).mean()
sizes = np.bincount(km.labels_, minlength=8)
close('inertia by definition', r['inertia'], ((X - cen[km.labels_]) ** 2).sum())
close('within', r['within'], within)
close('between', r['between'], between)
close('separation_ratio', r['separation_ratio'], between / within)
grade = 'excellent' if between / within > 2 else 'good' if between / within > 1 else \
    'moderate' if between / within > 0.5 else 'poor'
if r['grade'] != grade:
    bad.append('grade %s, wanted %s' % (r['grade'], grade))
close('balance', r['balance'], sizes.min() / sizes.max())
close('size_std', r['size_std'], np.std(sizes))
if sorted(r['sizes']) != sorted(sizes.tolist()):
    bad.append('sizes %r, sklearn %r' % (r['sizes'], sizes.tolist()))
close('min_distance', r['min_distance'], d[order].min())
close('max_distance', r['max_distance'], d[order].max())
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
}

# equal clusters; a width of 4096 + 3 bits (the last word not full);
# unequal clusters down to a cluster of one
gen eq 512 16 6 1 && check eq 42 && ok "16 per cluster, width 512"
gen wide 4099 16 40 2 && check wide 7 && ok "16 per cluster, width 4099"
gen uneq 1024 40,30,20,15,10,8,4,1 8 3 && check uneq 42 && ok "clusters of 40 down to 1, width 1024"
[ "$FAILS" -eq 0 ] || exit 1
