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
grep -q '^nm .*2:4 rows: every group of 4 consecutive weights along each row has exactly 2 non-zero$' "$T/p.txt" ||
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
