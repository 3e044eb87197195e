#!/bin/sh
# tests/sparsity.sh — `modelprint sparsity hamming|multi|profile` end to
# end: safetensors files written here with python3's struct, distances and
# cluster metrics recomputed here from the masks, the real pruned corpus
# model handlandmark-sparse checked against a count of its zeros made here
# from the TF.js manifest and .bin, and bad input.
. "$MP_SRCDIR/tests/corpus-fetch.sh"
. "$MP_SRCDIR/tests/lib.sh"

expect_error() { # label exit-status expected-phrase args...
	label=$1 want=$2 phrase=$3; shift 3
	err=$("$MP_BIN" "$@" 2>&1 >/dev/null) && { fail "$label: exit 0"; return; }
	st=$?
	[ "$st" -eq "$want" ] || fail "$label: exit $st, wanted $want"
	lines=1; [ "$want" -eq 2 ] && lines=2 # usage errors add "try ... --help"
	[ "$(echo "$err" | wc -l)" -eq $lines ] || fail "$label: not $lines line(s): $err"
	echo "$err" | grep -qF -- "$phrase" || fail "$label: message '$err'"
}

# --- files -----------------------------------------------------------------
cat > "$T/gen.py" <<'PY'
import json, random, struct, sys
out = sys.argv[1]
def write(path, tensors):
    hdr, data = {}, b''
    for name, dt, shape, vals in tensors:
        b = struct.pack('<%d%s' % (len(vals), {'F32': 'f', 'F16': 'e'}[dt]), *vals)
        hdr[name] = {'dtype': dt, 'shape': shape,
                     'data_offsets': [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(hdr).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + data)
r = random.Random(7)
R, C = 64, 256
two = []   # rows of two kinds (zeros in one half or the other), 5 % noise
for i in range(R):
    for j in range(C):
        z = (j < C // 2) == (i % 2 == 0)
        if r.random() < 0.05:
            z = not z
        two.append(0.0 if z else r.uniform(0.1, 1))
nm = []    # 2:4 along rows
for i in range(32):
    for g in range(0, 64, 4):
        keep = r.sample(range(4), 2)
        nm += [r.uniform(0.1, 1) if k in keep else 0.0 for k in range(4)]
wanda = [] # 100 zeros in every row of 256
for i in range(16):
    zs = set(r.sample(range(256), 100))
    wanda += [0.0 if j in zs else r.uniform(-1, 1) for j in range(256)]
rowp = [0.0 if i in (1, 4) else 1.0 for i in range(6) for j in range(8)]
write(out + '/m.safetensors', [
    ('two', 'F32', [R, C], two), ('nm', 'F16', [32, 64], nm),
    ('wanda', 'F32', [16, 256], wanda), ('rowp', 'F32', [6, 8], rowp),
    ('bias', 'F32', [8], [0.0, 1e-7, 1, 2, 0, 0, 3, 4]),
    ('zero', 'F32', [8, 8], [0.0] * 64), ('dense', 'F32', [8, 8], [1.0] * 64),
    ('empty', 'F32', [4, 0], [])])
more = [0.0 if ((j < C // 2) == (i % 3 == 0)) != (r.random() < 0.05)
        else r.uniform(0.1, 1) for i in range(160) for j in range(C)]
write(out + '/one.safetensors', [('w', 'F32', [160, C], more)])
PY
python3 "$T/gen.py" "$T" || { fail "python3 could not write the files"; finish; }
M="$T/m.safetensors"

# --- profile ---------------------------------------------------------------
"$MP_BIN" sparsity profile --json "$M" > "$T/p.json" || fail "profile exit"
python3 - "$T/p.json" <<'PY' || fail "profile values"
import json, sys
d = {t['name']: t for t in json.load(open(sys.argv[1]))['tensors']}
def eq(a, b, what):
    if a != b:
        sys.exit('%s: %r, wanted %r' % (what, a, b))
eq(d['nm']['pattern'], 'n:m-rows', 'nm pattern'); eq((d['nm']['n'], d['nm']['m']), (2, 4), 'nm n:m')
eq(d['nm']['zero_share'], 0.5, 'nm zero share')
eq(d['wanda']['pattern'], 'per-row', 'wanda'); eq(d['wanda']['row_zeros'], [100, 100], 'wanda rows')
eq(d['wanda']['evidence'], 'every row has exactly 100 zeros (of 256)', 'wanda evidence')
eq(d['rowp']['pattern'], 'rows-removed', 'rowp'); eq(d['rowp']['zero_share'], 16 / 48, 'rowp share')
eq(d['two']['pattern'], 'none', 'two'); eq(d['dense']['pattern'], 'none', 'dense')
eq(d['dense']['evidence'], 'no weight is exactly zero', 'dense evidence')
eq(d['zero']['evidence'], 'every weight is zero', 'zero evidence')
eq(d['bias']['pattern'], None, 'bias'); eq(d['bias']['zero_share'], 3 / 8, 'bias zeros')
eq(d['bias']['tiny_share'], 4 / 8, 'bias tiny')
PY
"$MP_BIN" sparsity profile "$M" > "$T/p.txt" || fail "profile text exit"
grep -q '^nm .*2:4 rows: every group of 4 consecutive weights along each row has exactly 2 non-zeros$' "$T/p.txt" ||
	fail "profile text: $(cat "$T/p.txt")"
ok "profile: shares and patterns"

# --- hamming ---------------------------------------------------------------
for axis in rows cols; do
	"$MP_BIN" sparsity hamming "$M" --tensor two --axis $axis --feature-idx 3 \
		--n-features 20 --n-clusters 2 --seed 9 --json > "$T/h.json" ||
		fail "hamming $axis exit"
	python3 - "$T/m.safetensors" "$T/h.json" $axis <<'PY' || fail "hamming $axis values"
import json, math, struct, sys
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
hdr = json.loads(raw[8:8 + n]); t = hdr['two']
a, b = t['data_offsets']; R, C = t['shape']
v = struct.unpack('<%df' % (R * C), raw[8 + n + a:8 + n + b])
feat = [[v[i * C + j] != 0 for j in range(C)] for i in range(R)]
if sys.argv[3] == 'cols':
    feat = [list(c) for c in zip(*feat)]
j = json.load(open(sys.argv[2]))
f = j['feature']
ham = lambda x, y: sum(p != q for p, q in zip(x, y))
want = sorted(((ham(feat[f], feat[i]), i) for i in range(len(feat)) if i != f))[:20]
got = [(e['distance'], e['feature']) for e in j['nearest']]
if got != want:
    sys.exit('nearest %r, wanted %r' % (got, want))
m = j['runs'][0]
if (m['min_distance'], m['max_distance'], m['distance_range']) != (want[0][0], want[-1][0], want[-1][0] - want[0][0]):
    sys.exit('distance range %r' % m)
# metrics recomputed from the labels
lab = [e['cluster'] for e in j['nearest']]
pts = [feat[i] for _, i in want]
k = 2
cen = []
for c in range(k):
    mem = [p for p, l in zip(pts, lab) if l == c]
    cen.append([sum(col) / len(mem) for col in zip(*mem)])
d2 = [sum((x - y) ** 2 for x, y in zip(p, cen[l])) for p, l in zip(pts, lab)]
within = sum(math.sqrt(x) for x in d2) / len(pts)
between = math.dist(cen[0], cen[1])
sizes = [lab.count(c) for c in range(k)]
for key, w in (('inertia', sum(d2)), ('within', within), ('between', between),
               ('separation_ratio', between / within),
               ('balance', min(sizes) / max(sizes))):
    if abs(m[key] - w) > 1e-9 * max(1, abs(w)):
        sys.exit('%s %r, wanted %r' % (key, m[key], w))
if m['sizes'] != sizes:
    sys.exit('sizes %r' % m['sizes'])
g = m['separation_ratio']
grade = 'excellent' if g > 2 else 'good' if g > 1 else 'moderate' if g > 0.5 else 'poor'
if m['grade'] != grade:
    sys.exit('grade %r' % m['grade'])
PY
done
ok "hamming: nearest features and metrics recomputed (rows, cols)"

# the single matrix needs no --tensor; the same seed gives the same output
"$MP_BIN" sparsity hamming "$T/one.safetensors" > "$T/a.txt" || fail "one exit"
"$MP_BIN" sparsity hamming "$T/one.safetensors" --seed 42 > "$T/b.txt" || fail "one exit 2"
cmp -s "$T/a.txt" "$T/b.txt" || fail "same seed, different output"
grep -q '^  separation ratio  *[0-9.]* (\(excellent\|good\|moderate\|poor\))$' "$T/a.txt" ||
	fail "hamming text: $(cat "$T/a.txt")"
[ "$(grep -c '^ *[0-9][0-9]* *[0-9][0-9]* *[0-9][0-9]* *[0-9]$' "$T/a.txt")" -eq 128 ] ||
	fail "hamming text: not 128 neighbours"
ok "hamming: one matrix, default options, deterministic"

# --- multi -----------------------------------------------------------------
"$MP_BIN" sparsity multi "$T/one.safetensors" --n-executions 3 --n-features 16 \
	--n-clusters 3 --output-json "$T/multi.json" > "$T/multi.txt" || fail "multi exit"
python3 - "$T/multi.json" <<'PY' || fail "multi values"
import json, math, statistics, sys
j = json.load(open(sys.argv[1]))
runs = j['runs']
if len(runs) != 3 or j['tensor'] != 'w' or j['matrix'] != [160, 256]:
    sys.exit('runs or metadata: %r' % {k: j[k] for k in ('tensor', 'matrix')})
if j['config'] != {'n_features': 16, 'n_clusters': 3, 'seed': 42, 'n_init': 10, 'n_executions': 3}:
    sys.exit('config %r' % j['config'])
for key in ('within', 'inertia', 'min_distance', 'balance'):
    xs = [r[key] for r in runs]
    a = j['aggregate'][key]
    if abs(a['mean'] - statistics.fmean(xs)) > 1e-9 or abs(a['std'] - statistics.pstdev(xs)) > 1e-6:
        sys.exit('%s: %r for %r' % (key, a, xs))
PY
grep -q '^  within  *[0-9.]* +- [0-9.]*$' "$T/multi.txt" || fail "multi text: $(cat "$T/multi.txt")"
ok "multi: three executions, mean and std"

# the thread count changes nothing (k-means restarts and masks on threads)
for th in 1 3 8; do
	"$MP_BIN" sparsity multi "$T/one.safetensors" --n-executions 3 --n-features 16 \
		--n-clusters 3 --json --threads $th > "$T/multi.$th.json" || fail "multi --threads $th exit"
	"$MP_BIN" sparsity profile --json --threads $th "$M" > "$T/p.$th.json" || fail "profile --threads $th exit"
done
cmp -s "$T/multi.1.json" "$T/multi.3.json" && cmp -s "$T/multi.1.json" "$T/multi.8.json" ||
	fail "multi: output depends on --threads"
cmp -s "$T/p.1.json" "$T/p.3.json" && cmp -s "$T/p.1.json" "$T/p.8.json" ||
	fail "profile: output depends on --threads"
ok "multi and profile: the same on 1, 3 and 8 threads"

# --- bad input -------------------------------------------------------------
expect_error "1-D tensor" 1 "tensor bias has 1 dimension" sparsity hamming "$M" --tensor bias
expect_error "all zero" 1 "tensor zero: every weight is zero" sparsity hamming "$M" --tensor zero --n-features 4 --n-clusters 2
expect_error "all dense" 1 "tensor dense: no weight is zero" sparsity hamming "$M" --tensor dense --n-features 4 --n-clusters 2
expect_error "clusters > features" 1 "--n-clusters 9 is more than the 8 features" sparsity hamming "$M" --tensor two --n-features 8 --n-clusters 9
expect_error "too many features" 1 "only 63 other features" sparsity hamming "$M" --tensor two --n-features 64
expect_error "no such tensor" 1 "no tensor named 'nope'; its matrices: two, nm, wanda, rowp, zero, dense" sparsity hamming "$M" --tensor nope
expect_error "several matrices" 1 "holds 6 matrices: give --tensor NAME" sparsity hamming "$M"
expect_error "feature out of range" 1 "--feature-idx 64, but it has 64 features" sparsity hamming "$M" --tensor two --n-features 8 --feature-idx 64
expect_error "empty matrix" 1 "tensor empty is empty" sparsity hamming "$M" --tensor empty
expect_error "bad axis" 2 "--axis takes rows or cols" sparsity hamming "$M" --axis diagonal
expect_error "bad subcommand" 2 "unknown subcommand 'cluster'" sparsity cluster "$M"
expect_error "profile option" 2 "--tensor is not an option of 'sparsity profile'" sparsity profile "$M" --tensor two
expect_error "missing file" 1 "nothere" sparsity profile "$T/nothere"
expect_error "one cluster" 2 "--n-clusters takes an integer from 2" sparsity hamming "$M" --n-clusters 1
ok "bad input: one clear line each"

# --- magnitude threshold and --parent ---------------------------------------
NP=/usr/bin/python3 # with numpy
cat > "$T/mag.py" <<'PY'
import json, struct, sys
import numpy as np
out = sys.argv[1]
def write(path, tensors):
    hdr, data = {}, b''
    for name, a in tensors:
        b = np.ascontiguousarray(a, dtype='<f4').tobytes()
        hdr[name] = {'dtype': 'F32', 'shape': list(a.shape),
                     'data_offsets': [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(hdr).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + data)
rng = np.random.default_rng(11)
P = {'a': rng.normal(0, 1, (64, 64)), 'b': rng.normal(0, .5, (64, 128)),
     'c': rng.normal(0, 2, (128, 48))}
P = {k: v.astype(np.float32) for k, v in P.items()}
T = np.quantile(np.abs(np.concatenate([v.ravel() for v in P.values()])), .3)
cut = lambda v, keep: np.where(keep, v, np.float32(0))
files = {
    'parent': P,
    'global': {k: cut(v, np.abs(v) > T) for k, v in P.items()},
    'pertensor': {k: cut(v, np.abs(v) > np.quantile(np.abs(v), .5)) for k, v in P.items()},
    'random': {k: cut(v, rng.random(v.shape) >= .5) for k, v in P.items()},
    'rowmag': {k: cut(v, np.abs(v) > np.quantile(np.abs(v), .5, axis=1, keepdims=True)) for k, v in P.items()},
}
up = {}
for k, v in files['global'].items():
    w = v.copy()
    idx = np.arange(w.size).reshape(w.shape)
    w[(idx % 3 == 0) & (w != 0)] *= np.float32(1.01)
    up[k] = w
files['updated'] = up
for name, ts in files.items():
    write('%s/%s.safetensors' % (out, name), list(ts.items()))
write(out + '/othershape.safetensors', [('a', P['a']), ('b', P['b'].T.copy()), ('c', P['c'])])
PY
$NP "$T/mag.py" "$T" || fail "numpy could not write the magnitude files"
cat > "$T/magcheck.py" <<'PY'
import json, struct, sys
import numpy as np
def read(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    return {k: np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]],
                             '<f4').reshape(v['shape']).astype(np.float64) for k, v in hdr.items()}
kind, model, parent, got = sys.argv[1], read(sys.argv[2]), read(sys.argv[3]), json.load(open(sys.argv[4]))
tens = {t['name']: t for t in got['tensors']}
def close(a, b, what, tol=1e-12):
    if a is None or abs(a - b) > tol * max(1, abs(b)):
        sys.exit('%s %s: %r, wanted %r' % (kind, what, a, b))
mins, flags = [], []
for k, w in model.items():
    a = np.abs(w[w != 0])
    share = (w == 0).mean()
    assert a.size >= 1024 and share >= .05, (kind, k, a.size, share)
    ratio = a.min() / np.median(a)
    mag = tens[k]['magnitude']
    close(mag['min_survivor'], a.min(), k + ' min survivor')
    close(mag['median_survivor'], np.median(a), k + ' median survivor')
    if mag['magnitude'] != (ratio >= .05):
        sys.exit('%s %s: magnitude %r with ratio %g' % (kind, k, mag['magnitude'], ratio))
    mins.append(a.min()); flags.append(ratio >= .05)
    p = parent[k]
    pr = tens[k]['parent']
    kept = (w != 0) & (p != 0)
    new = (w == 0) & (p != 0)
    changed = kept & (w != p)
    if pr['mask_only'] != (not changed.any()):
        sys.exit('%s %s: mask_only %r' % (kind, k, pr['mask_only']))
    close(pr['changed_share'], changed.sum() / kept.sum(), k + ' changed share')
    close(pr['relative_change'], np.sqrt(((w - p)[kept] ** 2).sum() / (p[kept] ** 2).sum()), k + ' relative change', 1e-9)
    ap = np.abs(p)
    if ap[new].max() <= ap[kept].min():
        sel = 'threshold'
    elif all(ap[i][new[i]].max(initial=0) <= ap[i][kept[i]].min(initial=np.inf) for i in range(p.shape[0])):
        sel = 'per-row'
    else:
        sel = 'other'
    if pr['selection'] != sel:
        sys.exit('%s %s: selection %r, wanted %r' % (kind, k, pr['selection'], sel))
m = got['magnitude']
want = {'global': 'global', 'pertensor': 'per-tensor', 'random': 'none', 'updated': 'global',
        'rowmag': 'within-groups'}.get(kind)
if want and m['verdict'] != want:
    sys.exit('%s: verdict %r, wanted %r (%r)' % (kind, m['verdict'], want, m))
if all(flags):
    close(m['min_threshold'], min(mins), 'T min'); close(m['max_threshold'], max(mins), 'T max')
if m['verdict'] == 'global':
    close(m['threshold'], min(mins), 'threshold')
    if max(mins) > min(mins) * 1.02:
        sys.exit('%s: global, but thresholds %r' % (kind, mins))
pj = got['parent']
glob = max(np.abs(parent[k][(model[k] == 0) & (parent[k] != 0)]).max() for k in model) <= \
       min(np.abs(parent[k][(model[k] != 0) & (parent[k] != 0)]).min() for k in model)
if pj['global_threshold'] != glob or pj['paired'] != 3:
    sys.exit('%s: parent summary %r' % (kind, pj))
want_sel = {'global': 'threshold', 'pertensor': 'threshold', 'random': 'other', 'rowmag': 'per-row'}
if kind in want_sel and any(tens[k]['parent']['selection'] != want_sel[kind] for k in model):
    sys.exit('%s: selections %r' % (kind, [tens[k]['parent']['selection'] for k in model]))
if kind == 'updated' and any(tens[k]['parent']['mask_only'] for k in model):
    sys.exit('updated: mask only')
PY
for kind in global pertensor random rowmag updated; do
	"$MP_BIN" sparsity profile --json "$T/$kind.safetensors" --parent "$T/parent.safetensors" \
		> "$T/$kind.json" || fail "profile --parent $kind exit"
	$NP "$T/magcheck.py" $kind "$T/$kind.safetensors" "$T/parent.safetensors" "$T/$kind.json" ||
		fail "profile --parent $kind values"
done
"$MP_BIN" sparsity profile "$T/global.safetensors" --parent "$T/parent.safetensors" > "$T/g.txt" ||
	fail "profile global text exit"
grep -q '^magnitude: one global threshold: no surviving |w| below [0-9.]* in any of 3 tensors (smallest survivors within 2 %); [0-9.]* % zeros$' "$T/g.txt" &&
	grep -q '^    parent: mask only: all [0-9]* survivors equal the parent; the [0-9]* new zeros are the smallest |w|' "$T/g.txt" &&
	grep -q '^parent: one threshold over the model' "$T/g.txt" || fail "profile global text: $(cat "$T/g.txt")"
"$MP_BIN" sparsity profile "$T/updated.safetensors" --parent "$T/parent.safetensors" > "$T/u.txt" ||
	fail "profile updated text exit"
grep -q '^    parent: survivors updated: [0-9.]* % changed, relative change' "$T/u.txt" &&
	grep -q ', 0 mask-only, 3 with survivors updated$' "$T/u.txt" || fail "profile updated text: $(cat "$T/u.txt")"
"$MP_BIN" sparsity profile --json "$T/global.safetensors" --parent "$T/othershape.safetensors" > "$T/o.json" ||
	fail "profile other shape exit"
python3 - "$T/o.json" <<'PY' || fail "profile other shape: $(cat "$T/o.json")"
import json, sys
j = json.load(open(sys.argv[1]))
t = {x['name']: x for x in j['tensors']}
assert j['parent']['mismatched'] == ['b'] and j['parent']['paired'] == 2, j['parent']
assert 'tensor b is 64x128, but 128x64 in the parent' in t['b']['parent']['error'], t['b']['parent']
PY
"$MP_BIN" sparsity profile "$T/global.safetensors" --parent "$T/othershape.safetensors" |
	grep -q ', 1 of another shape$' || fail "profile other shape text"
expect_error "parent missing" 1 "nothere" sparsity profile "$T/global.safetensors" --parent "$T/nothere"
expect_error "parent of hamming" 2 "--parent is an option of 'sparsity profile'" sparsity hamming "$M" --parent "$M"
ok "magnitude threshold (global, per tensor, random) and --parent (mask only, updated, per row, other shapes)"

# --- report ----------------------------------------------------------------
cat > "$T/rep.py" <<'PY'
import json, random, struct, sys
def write(path, name, R, C, vals):
    b = struct.pack('<%df' % len(vals), *vals)
    hdr = {name: {'dtype': 'F32', 'shape': [R, C], 'data_offsets': [0, len(b)]}}
    h = json.dumps(hdr).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + b)
r = random.Random(3)
R, C = 96, 128
for meth, noise in (('wanda', .02), ('sparsegpt', .1)):
    # down_proj: rows of two kinds (well separated); up_proj: random zeros
    v = [0.0 if ((j < C // 2) == (i % 2 == 0)) != (r.random() < noise) else r.uniform(.1, 1)
         for i in range(R) for j in range(C)]
    write('%s/%s_down.safetensors' % (sys.argv[1], meth), 'mlp.down_proj.weight', R, C, v)
    v = [0.0 if r.random() < .5 else r.uniform(.1, 1) for i in range(R * C)]
    write('%s/%s_up.safetensors' % (sys.argv[1], meth), 'mlp.up_proj.weight', R, C, v)
PY
python3 "$T/rep.py" "$T" || fail "python3 could not write the report matrices"
mkdir -p "$T/res" "$T/res2" "$T/empty" "$T/bad"
for m in wanda sparsegpt; do
	for p in down up; do
		"$MP_BIN" sparsity multi "$T/${m}_$p.safetensors" --n-executions 3 --n-features 16 \
			--n-clusters 3 --output-json "$T/res/${m}_${p}_proj.json" > /dev/null ||
			fail "multi $m $p exit"
	done
done
echo "notes" > "$T/res/notes.txt"
"$MP_BIN" sparsity report --results-dir "$T/res" --json > "$T/rep.json" 2> "$T/rep.err" || fail "report exit"
python3 - "$T/res" "$T/rep.json" <<'PY' || fail "report values"
import json, os, statistics, sys
d, rep = sys.argv[1], json.load(open(sys.argv[2]))
got = {m['file']: m for m in rep['matrices']}
files = sorted(f for f in os.listdir(d) if f.endswith('.json'))
if sorted(got) != files or rep['skipped'] != ['notes.txt']:
    sys.exit('files %r, skipped %r' % (sorted(got), rep['skipped']))
byp, bym = {}, {}
for f in files:
    j = json.load(open(os.path.join(d, f)))
    g = got[f]
    meth, proj = f[:-5].split('_', 1)
    if (g['method'], g['projection'], g['matrix'], g['tensor']) != (meth, proj, j['matrix'], j['tensor']):
        sys.exit('%s: names %r' % (f, g))
    for k, a in j['aggregate'].items():
        if g['metrics'][k] != {'mean': a['mean'], 'std': a['std']}:
            sys.exit('%s %s: %r, wanted %r' % (f, k, g['metrics'][k], a))
    byp.setdefault(proj, []).append(j['aggregate']['separation_ratio']['mean'])
    bym.setdefault(meth, []).append(j['aggregate']['separation_ratio']['mean'])
for key, want in (('by_projection', byp), ('by_method', bym)):
    order = sorted(want, key=lambda k: -statistics.fmean(want[k]))
    if [g['name'] for g in rep[key]] != order:
        sys.exit('%s order %r, wanted %r' % (key, rep[key], order))
    for g in rep[key]:
        if abs(g['separation_ratio'] - statistics.fmean(want[g['name']])) > 1e-12:
            sys.exit('%s %r' % (key, g))
best, worst = rep['by_projection'][0], rep['by_projection'][-1]
pct = 100 * (best['separation_ratio'] - worst['separation_ratio']) / worst['separation_ratio']
want = '%s separates best, %s worst: mean separation ratio %.4f vs %.4f (%.1f %% higher; 2 projections compared)' % (
    best['name'], worst['name'], best['separation_ratio'], worst['separation_ratio'], pct)
if rep['insights'][0] != want or best['name'] != 'down_proj':
    sys.exit('insight %r, wanted %r' % (rep['insights'][0], want))
PY
grep -q 'notes.txt: not a .json file, skipped' "$T/rep.err" ||
	fail "report note: $(cat "$T/rep.err")"
"$MP_BIN" sparsity report --results-dir "$T/res" > "$T/rep.txt" 2>/dev/null || fail "report text exit"
python3 - "$T/res/wanda_down_proj.json" "$T/rep.txt" <<'PY' || fail "report text: $(cat "$T/rep.txt")"
import json, sys
a = json.load(open(sys.argv[1]))['aggregate']
row = '%.4f+-%.4f' % (a['separation_ratio']['mean'], a['separation_ratio']['std'])
lines = [l for l in open(sys.argv[2]) if l.startswith('wanda') and 'down_proj' in l]
assert len(lines) == 1 and row in lines[0] and '96x128' in lines[0], (row, lines)
assert any(l.startswith('  down_proj separates best, up_proj worst') for l in open(sys.argv[2]))
PY
# names from the matrix path stored in the JSON, and --label
cp "$T/res/wanda_down_proj.json" "$T/res2/run1.json"
python3 - "$T/res/sparsegpt_up_proj.json" "$T/res2/run2.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); j['file'] = '/x/clustering/sparsegpt/layer1-mlp.up_proj.pt'
json.dump(j, open(sys.argv[2], 'w'))
PY
"$MP_BIN" sparsity report --results-dir "$T/res2" --json --label run1.json=magnitude/o_proj > "$T/rep2.json" ||
	fail "report labels exit"
python3 - "$T/rep2.json" <<'PY' || fail "report labels: $(cat "$T/rep2.json")"
import json, sys
m = {x['file']: (x['method'], x['projection']) for x in json.load(open(sys.argv[1]))['matrices']}
assert m == {'run1.json': ('magnitude', 'o_proj'), 'run2.json': ('sparsegpt', 'up_proj')}, m
PY
echo '{"aggregate": ' > "$T/bad/broken.json"
expect_error "report broken JSON" 1 "bad/broken.json" sparsity report --results-dir "$T/bad"
echo '{"runs": []}' > "$T/bad/broken.json"
expect_error "report not multi" 1 "broken.json: not a 'sparsity multi' result" sparsity report --results-dir "$T/bad"
expect_error "report empty dir" 1 "no JSON file (*.json) of 'sparsity multi' results" sparsity report --results-dir "$T/empty"
expect_error "report no dir" 1 "cannot read the directory" sparsity report --results-dir "$T/nothere"
expect_error "report bad label" 2 "give FILE=METHOD/PROJ" sparsity report --results-dir "$T/res" --label wanda
expect_error "report unused label" 1 "holds no JSON file of that name" sparsity report --results-dir "$T/res" --label x.json=a/b
expect_error "report needs dir" 2 "report needs --results-dir DIR" sparsity report
ok "report: table equals the JSONs, insights by projection and method, names, labels, bad input"

# --- the real pruned model -------------------------------------------------
HL="$models/handlandmark-sparse.json"
"$MP_BIN" sparsity profile --json "$HL" > "$T/hl.json" || fail "handlandmark profile"
python3 - "$HL" "$T/hl.json" <<'PY' || fail "handlandmark zero counts"
import json, os, struct, sys
doc = json.load(open(sys.argv[1]))
got = {t['name']: t for t in json.load(open(sys.argv[2]))['tensors']}
base = os.path.dirname(sys.argv[1])
want, total, zeros = {}, 0, 0
for g in doc['weightsManifest']:
    buf = b''.join(open(os.path.join(base, p), 'rb').read() for p in g['paths'])
    off = 0
    for w in g['weights']:
        n = 1
        for d in w['shape']:
            n *= d
        q = w.get('quantization')
        size = 2 if q and q['dtype'] == 'float16' else 4
        if q and q['dtype'] not in ('float16',):
            sys.exit('unexpected quantization %r' % q)
        if w['dtype'] == 'float32':
            codes = struct.unpack_from('<%d%s' % (n, 'H' if size == 2 else 'I'), buf, off)
            # a zero is the bit pattern of +0 or -0
            z = sum(1 for c in codes if c & (0x7fff if size == 2 else 0x7fffffff) == 0)
            want[w['name']] = (n, z)
        off += n * size
for name, (n, z) in want.items():
    if n == 0:
        continue
    t = got.get(name)
    if not t or t['numel'] != n or t['zeros'] != z:
        sys.exit('%s: %r, wanted %d zeros of %d' % (name, t and (t['zeros'], t['numel']), z, n))
if len(got) != sum(1 for n, _ in want.values() if n):
    sys.exit('%d tensors profiled, %d floating' % (len(got), len(want)))
share = sum(z for _, z in want.values()) / sum(n for n, _ in want.values())
if share < 0.3:
    sys.exit('handlandmark-sparse: only %.3f zero' % share)
print('handlandmark-sparse: %d tensors, %.4f zero' % (len(want), share))
PY
ok "handlandmark-sparse: zero counts of every tensor match"

finish
