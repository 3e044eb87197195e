#!/bin/sh
# tests/sweep.sh — `modelprint sweep` and `sweep synth` end to end: a small
# synthesised sweep whose three matrices and accuracies are recomputed here
# in numpy from the issue's definitions (explicit (P, 2P, 2P) tensors for
# TN, a forward pass for the logits, numpy's eigh and rfft for the
# frequencies), the results file read back by analyze and correlate, and
# bad input.
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

PY=/usr/bin/python3

# --- a synthesised sweep against numpy ------------------------------------
"$MP_BIN" sweep synth --p 7 --dims 1..P,9 --noise 0.05 --seed 2 --out "$T/sw" >/dev/null ||
	fail "synth"
"$MP_BIN" sweep "$T/sw/manifest.json" --json --output-dir "$T/out" > "$T/sweep.json" ||
	fail "sweep --json"

cat > "$T/ref.py" <<'PY'
import json, struct, sys
import numpy as np
man_path, got_path, mats_path = sys.argv[1:4]
man = json.load(open(man_path))
P = man['P']
base = man_path.rsplit('/', 1)[0]

def read_st(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        s, e = v['data_offsets']
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').astype(np.float64).reshape(v['shape'])
    return out

models = []
for m in man['models']:
    t = read_st(base + '/' + m['file'])
    W, D = t['bi_linear.weight'], t['projection.weight']
    d = m['d']
    models.append((W[:d], W[d:], D))

def sym_tensor(L, R, D):
    T = np.einsum('rh,hi,hj->rij', D, L, R)
    return 0.5 * (T + T.transpose(0, 2, 1))

def logits(L, R, D):
    out = np.zeros((P, P, P))
    for a in range(P):
        for b in range(P):
            x = np.zeros(2 * P); x[a] = 1; x[P + b] = 1
            out[a, b] = D @ ((L @ x) * (R @ x))
    return out

def freq(L, R, D, n_evecs=4):
    dist = np.zeros((P, P // 2 + 1))
    for r in range(P):
        C = np.einsum('h,hi,hj->ij', D[r], L, R)
        B = 0.5 * (C + C.T)
        w, V = np.linalg.eigh(B)
        order = np.argsort(-np.abs(w), kind='stable')
        for t in order[:n_evecs]:
            dist[r] += abs(w[t]) * np.abs(np.fft.rfft(V[:P, t]))
        dist[r] /= dist[r].sum()
    return dist

def js(p, q):
    m = 0.5 * (p + q)
    s = 0.0
    for x in (p, q):
        mask = x > 1e-12
        s += 0.5 * np.sum(x[mask] * np.log(x[mask] / np.maximum(m[mask], 1e-12)))
    return s

n = len(models)
S = [sym_tensor(*m) for m in models]
LG = [logits(*m) for m in models]
F = [freq(*m) for m in models]
tn = np.zeros((n, n)); lc = np.zeros((n, n)); jd = np.zeros((n, n))
for i in range(n):
    for j in range(n):
        tn[i, j] = np.sum(S[i] * S[j]) / np.sqrt(np.sum(S[i] ** 2) * np.sum(S[j] ** 2))
        dot = np.sum(LG[i] * LG[j], axis=2)
        den = np.linalg.norm(LG[i], axis=2) * np.linalg.norm(LG[j], axis=2)
        lc[i, j] = np.mean(dot / np.maximum(den, 1e-8))
        jd[i, j] = sum(js(F[i][r], F[j][r]) for r in range(P))
acc = [np.mean(np.argmax(lg, axis=2) == (np.arange(P)[:, None] + np.arange(P)[None, :]) % P) for lg in LG]

got = json.load(open(got_path))
mats = json.load(open(mats_path))['matrices']['sweep']
bad = 0
for name, ref, tol in (('tn', tn, 1e-9), ('logit_cosine', lc, 1e-9), ('freq_js', jd, 1e-8)):
    for src, v in (('json', got['similarity']['matrices']['sweep'][name]['values']),
                   ('results file', mats[name]['values'])):
        err = np.max(np.abs(np.array(v, dtype=float) - ref))
        if not err < tol:
            print('FAIL: %s (%s) differs from numpy by %g' % (name, src, err)); bad += 1
for i, m in enumerate(got['models']):
    if abs(m['accuracy'] - acc[i]) > 1e-12:
        print('FAIL: accuracy of d=%d: %r, numpy %r' % (m['d'], m['accuracy'], acc[i])); bad += 1
up = np.triu_indices(n, 1)
for k, (name, ref) in enumerate((('tn', tn), ('logit_cosine', lc), ('freq_js', jd))):
    s = got['summary'][name]
    for key, want in (('mean', ref[up].mean()), ('std', ref[up].std()),
                      ('min', ref[up].min()), ('max', ref[up].max())):
        if abs(s[key] - want) > 1e-8:
            print('FAIL: summary %s %s %r want %r' % (name, key, s[key], want)); bad += 1
r = np.corrcoef([tn[up], lc[up], -jd[up]])
gr = np.array(got['pearson']['r'])
if np.max(np.abs(gr - r)) > 1e-8:
    print('FAIL: pearson', gr, r); bad += 1
def rank(x):
    r = np.empty(len(x)); r[np.argsort(x, kind='stable')] = np.arange(1, len(x) + 1)
    return r
rs = np.corrcoef([rank(tn[up]), rank(lc[up]), rank(-jd[up])])
if np.max(np.abs(np.array(got['spearman']) - rs)) > 1e-8:
    print('FAIL: spearman', got['spearman'], rs); bad += 1
alike = {'tn': tn, 'logit_cosine': lc, 'freq_js': -jd}
def nearest(M, i, k):
    others = [j for j in range(n) if j != i]
    return set(sorted(others, key=lambda j: (-M[i, j], j))[:k])
for k in (1, 3, 5):
    for a_, b_ in (('tn', 'logit_cosine'), ('tn', 'freq_js'), ('logit_cosine', 'freq_js')):
        want = np.mean([len(nearest(alike[a_], i, k) & nearest(alike[b_], i, k)) /
                        len(nearest(alike[a_], i, k) | nearest(alike[b_], i, k)) for i in range(n)])
        g = got['knn_jaccard'][str(k)][a_ + '/' + b_]
        if abs(g - want) > 1e-12:
            print('FAIL: knn k=%d %s/%s: %r want %r' % (k, a_, b_, g, want)); bad += 1
if sorted(got['knn_jaccard']) != ['1', '3', '5']:
    print('FAIL: knn k values', sorted(got['knn_jaccard'])); bad += 1
print('models %d, max |tn| err %g' % (n, np.max(np.abs(np.array(got['similarity']['matrices']['sweep']['tn']['values']) - tn))))
sys.exit(1 if bad else 0)
PY
if $PY "$T/ref.py" "$T/sw/manifest.json" "$T/sweep.json" "$T/out/similarity_matrices.json" > "$T/ref.out"; then
	ok "three matrices, accuracies, summaries, Pearson, Spearman and kNN Jaccard match numpy ($(tail -1 "$T/ref.out"))"
else
	cat "$T/ref.out"; fail "numpy reference"
fi

# analyze and correlate read the results
"$MP_BIN" analyze --results-file "$T/out/similarity_matrices.json" --method sweep \
	--metric tn --model-info "$T/out/model_info.json" > "$T/an.out" 2>&1 ||
	fail "analyze on the sweep results: $(cat "$T/an.out")"
grep -q '^sw ' "$T/an.out" || fail "analyze: no family 'sw': $(cat "$T/an.out")"
grep -q 'perfect' "$T/an.out" || fail "analyze: no accuracy band type"
"$MP_BIN" correlate --results-file "$T/out/similarity_matrices.json" \
	--metrics tn,logit_cosine,freq_js > /dev/null || fail "correlate on the sweep results"

# noise-free synthesised models: accuracy 1.0 from d = 4, in the file and computed
"$MP_BIN" sweep synth --p 11 --dims 2,4,5,8 --out "$T/clean" > /dev/null || fail "synth clean"
"$MP_BIN" sweep "$T/clean/manifest.json" --json > "$T/clean.json" 2> "$T/clean.err" || fail "sweep clean"
[ -s "$T/clean.err" ] && fail "val_acc warning on a synthesised sweep: $(cat "$T/clean.err")"
$PY - "$T/clean.json" <<'PY' || fail "accuracy 1.0 for d >= 4"
import json, sys
m = json.load(open(sys.argv[1]))['models']
sys.exit(0 if [x['accuracy'] == 1.0 for x in m] == [False, True, True, True] else 1)
PY
ok "synthesised models reach accuracy 1.0 from d = 4"

# a stored val_acc that disagrees: a warning, exit 0
sed 's/"val_acc":[^,}]*/"val_acc": 0.5/' "$T/clean/manifest.json" > "$T/clean/wrong.json"
"$MP_BIN" sweep "$T/clean/wrong.json" > /dev/null 2> "$T/warn.err" || fail "val_acc mismatch is not an error"
grep -q 'warning: .*d4.safetensors: model d=4: computed accuracy 1.000000, the manifest says 0.500000' "$T/warn.err" ||
	fail "val_acc warning: $(cat "$T/warn.err")"

# other tensor names through --layers
$PY - "$T/clean" <<'PY'
import json, sys
d = sys.argv[1]
for w in (4, 8):
    b = open(d + '/d%d.safetensors' % w, 'rb').read()
    b = b.replace(b'bi_linear.weight', b'bl.w____________').replace(b'projection.weight', b'proj.w___________')
    open(d + '/renamed%d.safetensors' % w, 'wb').write(b)
json.dump({'P': 11, 'models': [{'d': 4, 'file': 'renamed4.safetensors'}, {'d': 8, 'file': 'd8.safetensors'}]},
          open(d + '/mixed.json', 'w'))
json.dump({'P': 11, 'models': [{'d': 4, 'file': 'renamed4.safetensors'}, {'d': 8, 'file': 'renamed8.safetensors'}]},
          open(d + '/renamed.json', 'w'))
PY
"$MP_BIN" sweep "$T/clean/renamed.json" --layers bl.w____________,proj.w___________ --json > "$T/ren.json" ||
	fail "--layers"
$PY - "$T/ren.json" "$T/clean.json" <<'PY' || fail "--layers: other TN than the same models under the default names"
import json, sys
a = json.load(open(sys.argv[1]))['similarity']['matrices']['sweep']['tn']['values']
b = json.load(open(sys.argv[2]))['similarity']['matrices']['sweep']['tn']['values']
sys.exit(0 if a[0][1] == b[1][3] else 1)
PY
expect_error "missing tensor" 1 "renamed4.safetensors: no tensor 'bi_linear.weight'" sweep "$T/clean/mixed.json"

# TF.js models (kernels stored input-first) are read transposed
$PY - "$T/clean" <<'PY'
import json, os, struct, sys
import numpy as np
d = sys.argv[1]
for w in (4, 8):
    b = open(d + '/d%d.safetensors' % w, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    os.makedirs(d + '/tfjs%d' % w, exist_ok=True)
    data, ws = b'', []
    for name in ('bi_linear.weight', 'projection.weight'):
        s, e = h[name]['data_offsets']
        a = np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').reshape(h[name]['shape'])
        data += np.ascontiguousarray(a.T).tobytes()
        ws.append({'name': name, 'shape': list(a.T.shape), 'dtype': 'float32'})
    open(d + '/tfjs%d/w.bin' % w, 'wb').write(data)
    json.dump({'weightsManifest': [{'paths': ['w.bin'], 'weights': ws}]}, open(d + '/tfjs%d/model.json' % w, 'w'))
json.dump({'P': 11, 'models': [{'d': 4, 'file': 'tfjs4/model.json'}, {'d': 8, 'file': 'tfjs8/model.json'}]},
          open(d + '/tfjs.json', 'w'))
PY
"$MP_BIN" sweep "$T/clean/tfjs.json" --json > "$T/tfjs.out" || fail "sweep of TF.js models"
$PY - "$T/tfjs.out" "$T/clean.json" <<'PY' || fail "TF.js models: other matrices than the same safetensors models"
import json, sys
a = json.load(open(sys.argv[1]))['similarity']['matrices']['sweep']
b = json.load(open(sys.argv[2]))['similarity']['matrices']['sweep']
sys.exit(0 if all(a[m]['values'][0][1] == b[m]['values'][1][3] for m in ('tn', 'logit_cosine', 'freq_js')) else 1)
PY

# an all-zero model: TN and freq_js null (undefined), logit cosine 0
$PY - "$T/clean" <<'PY'
import json, struct, sys
d = sys.argv[1]
P = 11
h = json.dumps({'bi_linear.weight': {'dtype': 'F32', 'shape': [2, 2 * P], 'data_offsets': [0, 16 * P]},
                'projection.weight': {'dtype': 'F32', 'shape': [P, 1], 'data_offsets': [16 * P, 20 * P]}}).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
open(d + '/zero.safetensors', 'wb').write(struct.pack('<Q', len(h)) + h + bytes(20 * P))
json.dump({'P': P, 'models': [{'d': 1, 'file': 'zero.safetensors'}, {'d': 4, 'file': 'd4.safetensors'},
                              {'d': 8, 'file': 'd8.safetensors'}]}, open(d + '/zero.json', 'w'))
PY
"$MP_BIN" sweep "$T/clean/zero.json" --json --output-dir "$T/zout" > "$T/zero.out" || fail "sweep with an all-zero model"
$PY - "$T/zero.out" <<'PY' || fail "all-zero model: not null TN / freq_js and 0 logit cosine"
import json, sys
m = json.load(open(sys.argv[1]))['similarity']['matrices']['sweep']
ok = m['tn']['values'][0][1] is None and m['freq_js']['values'][0][2] is None
ok = ok and m['logit_cosine']['values'][0][1] == 0 and m['tn']['values'][1][2] is not None
sys.exit(0 if ok else 1)
PY
"$MP_BIN" analyze --results-file "$T/zout/similarity_matrices.json" --method sweep \
	--metric freq_js --model-info "$T/zout/model_info.json" > /dev/null 2>&1 ||
	fail "analyze on a results file with null values"

# --- bad input ---------------------------------------------------------------
printf '{"P": 11, "models": [{"d": 4, "file": "tfjs4/model.json"}, {"d": 5, "file": "tfjs8/model.json"}]}' > "$T/clean/tfjs-bad.json"
expect_error "TF.js shape" 1 "model.json: tensor 'bi_linear.weight' has shape (22, 16), expected (22, 10) for this P and d (TF.js: input-first)" sweep "$T/clean/tfjs-bad.json"
$PY - "$T/clean" <<'PY'
import json, sys
d = sys.argv[1]
b = open(d + '/d4.safetensors', 'rb').read()
b = b.replace(b'"shape":[8,22]', b'"shape":[176] ')
open(d + '/flat.safetensors', 'wb').write(b)
json.dump({'P': 11, 'models': [{'d': 4, 'file': 'flat.safetensors'}, {'d': 8, 'file': 'd8.safetensors'}]},
          open(d + '/flat.json', 'w'))
PY
expect_error "1-d tensor" 1 "flat.safetensors: tensor 'bi_linear.weight' has 1 dimensions, expected a (8, 22) matrix" sweep "$T/clean/flat.json"

mkdir -p "$T/bad"
cp "$T/clean/d4.safetensors" "$T/clean/d8.safetensors" "$T/bad/"
printf '{"P": 7, "models": [{"d": 4, "file": "d4.safetensors"}, {"d": 8, "file": "d8.safetensors"}]}' > "$T/bad/p7.json"
expect_error "shape not fitting P" 1 "d4.safetensors: tensor 'bi_linear.weight' has shape (8, 22), expected (8, 14)" sweep "$T/bad/p7.json"
printf '{"P": 11, "models": [{"d": 5, "file": "d4.safetensors"}, {"d": 8, "file": "d8.safetensors"}]}' > "$T/bad/d5.json"
expect_error "shape not fitting d" 1 "expected (10, 22)" sweep "$T/bad/d5.json"
printf '{"P": 11, "models": [{"d": 4, "file": "d4.safetensors"}, {"d": 8, "file": "nothere.safetensors"}]}' > "$T/bad/missing.json"
expect_error "missing file" 1 "nothere.safetensors" sweep "$T/bad/missing.json"
printf '{"P": 1, "models": [{"d": 4, "file": "d4.safetensors"}]}' > "$T/bad/p1.json"
expect_error "P < 2" 1 'p1.json: "P" must be a whole number from 2' sweep "$T/bad/p1.json"
printf '{"P": 11, "models": [{"d": 0, "file": "d4.safetensors"}, {"d": 8, "file": "d8.safetensors"}]}' > "$T/bad/d0.json"
expect_error "d = 0" 1 'd0.json: models[0]: "d" must be a whole number from 1' sweep "$T/bad/d0.json"
printf '{"P": 11, "models": [{"d": 4, "file": "d4.safetensors"},' > "$T/bad/broken.json"
expect_error "broken JSON" 1 "broken.json" sweep "$T/bad/broken.json"
printf '{"P": 11, "models": [{"d": 4, "file": "d4.safetensors"}, {"d": 4, "file": "d4.safetensors"}]}' > "$T/bad/twice.json"
expect_error "repeated d" 1 "both have d = 4" sweep "$T/bad/twice.json"
printf '{"P": 11, "models": [{"d": 4, "file": "../clean/d4.safetensors"}, {"d": 8, "file": "d8.safetensors"}]}' > "$T/bad/escape.json"
expect_error "file outside the directory" 1 "must be a relative path inside" sweep "$T/bad/escape.json"
printf '{"P": 11, "models": [{"d": 4, "file": "d4.safetensors"}]}' > "$T/bad/one.json"
expect_error "one model" 1 "at least two models" sweep "$T/bad/one.json"
$PY - "$T/bad" <<'PY'
import struct, sys
d = sys.argv[1]
b = bytearray(open(d + '/d4.safetensors', 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
b[8 + n:12 + n] = struct.pack('<f', float('nan'))
open(d + '/nan.safetensors', 'wb').write(bytes(b))
PY
printf '{"P": 11, "models": [{"d": 4, "file": "nan.safetensors"}, {"d": 8, "file": "d8.safetensors"}]}' > "$T/bad/nan.json"
expect_error "NaN weight" 1 "nan.safetensors: tensor 'bi_linear.weight' holds a non-finite value at element 0" sweep "$T/bad/nan.json"
$PY - "$T/bad" <<'PY'
import json, struct, sys
d = sys.argv[1]
P = 700
for w in (1, 2):
    h = json.dumps({'bi_linear.weight': {'dtype': 'F32', 'shape': [2 * w, 2 * P], 'data_offsets': [0, 16 * w * P]},
                    'projection.weight': {'dtype': 'F32', 'shape': [P, w], 'data_offsets': [16 * w * P, 20 * w * P]}}).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    open(d + '/p700d%d.safetensors' % w, 'wb').write(struct.pack('<Q', len(h)) + h + bytes(20 * w * P))
json.dump({'P': P, 'models': [{'d': 1, 'file': 'p700d1.safetensors'}, {'d': 2, 'file': 'p700d2.safetensors'}]},
          open(d + '/cap.json', 'w'))
json.dump({'P': P, 'models': [{'d': 1, 'file': 'p700d1.safetensors'}, {'d': 1000, 'file': 'p700d2.safetensors'}]},
          open(d + '/wide.json', 'w'))
json.dump({'P': 1025, 'models': [{'d': 1, 'file': 'p700d1.safetensors'}]}, open(d + '/p1025.json', 'w'))
PY
expect_error "d of 1000 for a d=2 file" 1 "p700d2.safetensors: tensor 'bi_linear.weight' has shape (4, 1400), expected (2000, 1400)" sweep "$T/bad/wide.json"
expect_error "P above 1024" 1 'p1025.json: "P" must be a whole number from 2 to 1024' sweep "$T/bad/p1025.json"
expect_error "too many logits" 1 "sweep cap: 2 models of P = 700 need 6.86e+08 logits at once, more than the 536870912 allowed" sweep "$T/bad/cap.json"
expect_error "no manifest" 2 "a sweep MANIFEST is required" sweep
expect_error "bad --n-evecs" 2 "--n-evecs" sweep "$T/bad/p7.json" --n-evecs 0
expect_error "bad --layers" 2 "--layers wants LR,PROJ" sweep "$T/bad/p7.json" --layers onlyone
expect_error "synth without --out" 2 "synth needs" sweep synth --p 5 --dims 1..3
expect_error "synth bad dims" 2 "--dims wants" sweep synth --p 5 --dims 3..1 --out "$T/x"
"$MP_BIN" sweep --help | grep -q -- '--n-evecs' || fail "sweep --help"
ok "bad input"


# --- sweep files in the research layout (tests/sweep/make_sweep_pickle.py) ---
SW="$MP_SRCDIR/tests/sweep"
for f in manifest.json sweep_zip.pt sweep_legacy.pt sweep_plain.pkl sweep_nodims.pkl; do
	"$MP_BIN" sweep "$SW/$f" --json --output-dir "$T/swf-$f" > "$T/swf-$f.json" 2> "$T/swf-$f.err" ||
		fail "sweep $f: $(cat "$T/swf-$f.err")"
	[ -s "$T/swf-$f.err" ] && fail "sweep $f: stderr $(cat "$T/swf-$f.err")"
done
$PY - "$T" <<'PY' || fail "sweep files: matrices differ from the manifest's"
import json, sys
t = sys.argv[1]
def load(f):
    j = json.load(open('%s/swf-%s.json' % (t, f)))
    m = json.load(open('%s/swf-%s/similarity_matrices.json' % (t, f)))['matrices']
    return j, m
ref, refm = load('manifest.json')
assert [m['d'] for m in ref['models']] == [2, 3, 4, 5, 6], ref['models']
for f in ("sweep_zip.pt", "sweep_legacy.pt", "sweep_plain.pkl", "sweep_nodims.pkl"):
    j, m = load(f)
    assert j['P'] == 7
    assert [x['d'] for x in j['models']] == [2, 3, 4, 5, 6], f
    for a, b in zip(j['models'], ref['models']):
        assert a['accuracy'] == b['accuracy'], (f, a, b)
        # val_acc as stored (computed by torch in the fixture script)
        if f != 'sweep_nodims.pkl':
            assert a['val_acc'] == b['val_acc'], (f, a, b)
        else:
            assert 'val_acc' not in a or a['val_acc'] is None, (f, a)
    assert m == refm, f
    assert j['similarity'] == ref['similarity'], f
PY
expect_error "sweep file with os.system" 1 "evil.pkl: refused global 'posix.system'" sweep "$SW/evil.pkl"
expect_error "sweep file without models" 1 'nomodels.pkl: no "models_state" or "models" entry' sweep "$SW/nomodels.pkl"
expect_error "sweep file with the wrong P" 1 "wrongp.pkl: tensor 'models.0.bi_linear.weight' has shape (4, 14), expected (4, 10)" sweep "$SW/wrongp.pkl"
expect_error "sweep file with d twice" 1 "dupd.pkl: two models have d = 3" sweep "$SW/dupd.pkl"
/usr/bin/printf '\x80\x02}q\x00X\x01\x00\x00\x00Pq\x01K\x07s.' > "$T/onlyp.pkl"
expect_error "sweep file with only P" 1 'onlyp.pkl: no "models_state" or "models" entry' sweep "$T/onlyp.pkl"
/usr/bin/printf '\x80\x02]q\x00.' > "$T/list.pkl"
expect_error "sweep file not a dict" 1 "list.pkl: a sweep file holds a dict" sweep "$T/list.pkl"
printf 'P = 7\n' > "$T/text.txt"
expect_error "neither manifest nor sweep file" 1 "text.txt: neither a sweep manifest (JSON) nor a sweep file" sweep "$T/text.txt"
mkfifo "$T/fifo"
expect_error "a FIFO as the sweep" 1 "fifo: not a regular file (a FIFO)" sweep "$T/fifo"
ok "sweep files (torch.save, pickle.dump) match the manifest"


# --- the demo sweep (data/demo/make-sweep-demo.sh) reproduces its results ---
DEMO="$MP_SRCDIR/data/demo/sweep"
"$MP_BIN" sweep "$DEMO/manifest.json" --output-dir "$T/demo" > "$T/demo.out" 2> "$T/demo.err" ||
	fail "demo sweep: $(cat "$T/demo.err")"
[ -s "$T/demo.err" ] && fail "demo sweep: stderr $(cat "$T/demo.err")"
$PY - "$DEMO/results" "$T/demo" <<'PY' || fail "demo sweep: results differ from the committed ones"
import json, math, sys
want, got = sys.argv[1:3]
def close(a, b, where):
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), where
        for k in a:
            close(a[k], b[k], where + '.' + k)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, '%s[%d]' % (where, i))
    elif isinstance(a, float) or isinstance(b, float):
        assert abs(a - b) <= 1e-12, (where, a, b)
    else:
        assert a == b, (where, a, b)
for f in ('similarity_matrices.json', 'model_info.json', 'sweep.json'):
    close(json.load(open(want + '/' + f)), json.load(open(got + '/' + f)), f)
tn = json.load(open(want + '/similarity_matrices.json'))['matrices']['sweep']['tn']
assert tn['models'] == ['d=%d' % d for d in range(1, 14)], tn['models']
PY
ok "the demo sweep reproduces data/demo/sweep/results"

finish
