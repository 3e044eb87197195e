#!/bin/sh
# tests/weight.sh — the `weight` method against tests/weight_ref.py (numpy,
# written from the definition): a chain the matrix-chain programme orders
# differently from left to right, a model with no chainable pair, ties by
# name, size below and above the number of singular values; argument
# errors; `run` with "methods": ["weight"], "metrics": ["l1"].
. "$MP_SRCDIR/tests/lib.sh"
NP=/usr/bin/python3 # with numpy
REF="$MP_SRCDIR/tests/weight_ref.py"
$NP "$REF" gen "$T" || { fail "weight_ref.py could not write the models"; finish; }

fpw() { # model size: fingerprint --json into $T/fp.json
	"$MP_BIN" fingerprint --method weight --arg size="$2" --json "$1" > "$T/fp.json"
}
for c in "dp 2" "dp 5" "single 2" "single 3" "ties 1" "ties 4" "m1 50"; do
	set -- $c
	if fpw "$T/$1.safetensors" "$2" && $NP "$REF" check "$T/$1.safetensors" "$2" "$T/fp.json"; then
		ok "weight of $1, size $2"
	else
		fail "weight of $1, size $2"
	fi
done
# the dp chain a(40x30) b(30x5) c(5x20) d(20x2): 2900 multiplications in
# the order a (b (c d)) against 11600 left to right; e (7x4) does not fit
fpw "$T/dp.safetensors" 2
tr -d '\t\n' < "$T/fp.json" | grep -q '"vector_note":"(a (b (c d)))"' || fail "dp order: $(cat "$T/fp.json")"
# TF.js: the output axis is the last (as for spectral), so the same
# matrices stored input-first give the same fingerprint
"$MP_BIN" fingerprint --method weight --arg size=5 --json "$T/dp.safetensors" > "$T/st.json" &&
	"$MP_BIN" fingerprint --method weight --arg size=5 --json "$T/tf/model.json" > "$T/tf.json" ||
	fail "TF.js fingerprint"
$NP - "$T/st.json" "$T/tf.json" <<'PY' || fail "TF.js and safetensors differ"
import json, sys
a, b = (json.load(open(p))["fingerprints"][0] for p in sys.argv[1:])
assert b["format"] == "tfjs" and a["vector_note"] == b["vector_note"], (a, b)
assert max(abs(x - y) for x, y in zip(a["vector"], b["vector"])) < 1e-12
PY
# the default size is 50: 2500 values
"$MP_BIN" fingerprint --method weight --json "$T/single.safetensors" > "$T/fp.json" &&
	$NP "$REF" check "$T/single.safetensors" 50 "$T/fp.json" || fail "default size"
out=$("$MP_BIN" fingerprint --method weight --arg size=3 "$T/single.safetensors") || fail "summary"
echo "$out" | grep -q "^  vector: 9 values, 6 non-zero:" || fail "summary: $out"
echo "$out" | grep -q "^  from: big$" || fail "summary chain: $out"
ok "order, default size and summary"

# arguments: size is an integer >= 1; no other argument (usage errors:
# the message, then the pointer to --help)
for a in size=0 size=1.5 size=x size=1025 n0=3; do
	rc=0
	err=$("$MP_BIN" fingerprint --method weight --arg "$a" "$T/dp.safetensors" 2>&1) || rc=$?
	[ $rc = 2 ] && printf '%s\n' "$err" | sed -n 2p | grep -q "^try 'modelprint fingerprint --help'$" ||
		fail "--arg $a: exit $rc, $err"
done
"$MP_BIN" fingerprint --method weight --arg size=0 "$T/dp.safetensors" 2>&1 |
	grep -q "weight: argument size must be an integer in 1..1024" || fail "size=0 message"
# no floating matrix at all: one error naming the file
st_write "$T/vec.safetensors" '{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' "$F1$F2"
rc=0
err=$("$MP_BIN" fingerprint --method weight "$T/vec.safetensors" 2>&1) || rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "vec.safetensors: weight: no floating tensor with at least two dimensions" ||
	fail "no matrix: exit $rc, $err"
ok "argument and input errors"

# run over three models: m2 is m1 times 3 (the same after the per-operand
# scaling), m3 another random model; l1 matrix as weight_ref.py computes it
R="$T/reg"
for m in m1 m2 m3; do
	"$MP_BIN" registry --registry "$R" add "$T/$m.safetensors" --name "$m" >/dev/null || fail "registry add $m"
done
printf '{"models":["1","2","3"],"methods":["weight"],"method_args":{"weight":{"size":4}},"metrics":["l1"]}' > "$T/cfg.json"
"$MP_BIN" run --config "$T/cfg.json" --registry "$R" --output-dir "$T/out" > "$T/run.out" ||
	fail "run exited $?: $(cat "$T/run.out")"
$NP "$REF" matrix 4 "$T/m1.safetensors" "$T/m2.safetensors" "$T/m3.safetensors" > "$T/want.json"
$NP - "$T/out/similarity_matrices.json" "$T/want.json" <<'PY' || fail "run l1 matrix"
import json, sys
import numpy as np
got = json.load(open(sys.argv[1]))
want = np.array(json.load(open(sys.argv[2])))
m = None
def find(o):
    global m
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "l1" and isinstance(v, dict) and "values" in v:
                m = v
            find(v)
    elif isinstance(o, list):
        for v in o:
            find(v)
find(got)
vals = np.array(m["values"], dtype=float)
assert vals.shape == (3, 3), vals
assert np.allclose(vals, want, rtol=0, atol=1e-9), (vals, want)
assert abs(vals[0, 1] - 1) < 1e-12 and vals[0, 2] < 0.999, vals
PY
# stored in the registry and reused: the vector survives, same matrix
"$MP_BIN" run --config "$T/cfg.json" --registry "$R" --global-registry "$R" \
	--write-to-registry --output-dir "$T/out1" >/dev/null || fail "run --write-to-registry"
out=$("$MP_BIN" run --config "$T/cfg.json" --registry "$R" --use-existing --output-dir "$T/out2") ||
	fail "run --use-existing"
echo "$out" | grep -q "fingerprints: 0 computed, 3 reused" || fail "reuse: $out"
cmp -s "$T/out/similarity_matrices.json" "$T/out2/similarity_matrices.json" ||
	fail "reused weight fingerprints gave another matrix"
ok "run with methods [weight], metrics [l1]"
# A GGUF conversion chains as its original: the LLaMA fixture parent and
# its f32 GGUF (other tensor names, Q/K rows permuted by llama.cpp) give
# the same vector, bit for bit; the f16 one within f16 rounding.
FX=${MP_FIXTURES:-$MP_SRCDIR/../shared/fixtures}/gguf
for x in parent model-f32.gguf model-f16.gguf; do
	"$MP_BIN" fingerprint --method weight --json "$FX/$x" >"$T/w-$x.json" ||
		fail "weight fingerprint of $x"
done
python3 - "$T/w-parent.json" "$T/w-model-f32.gguf.json" "$T/w-model-f16.gguf.json" <<'PY' &&
import json, sys
a, b, c = (json.load(open(f))["fingerprints"][0]["vector"] for f in sys.argv[1:])
assert a == b, max(abs(x - y) for x, y in zip(a, b))
l1 = 1 - sum(abs(x - y) for x, y in zip(a, c)) / (sum(map(abs, a)) + sum(map(abs, c)))
assert l1 > 0.9999, l1
PY
	ok "weight: the GGUF conversions of the LLaMA fixture chain as the parent" ||
	fail "weight: a GGUF conversion's vector differs from the parent's"
finish
