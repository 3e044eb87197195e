#!/bin/sh
# tests/run.sh — experiments end to end: registry, run, --use-existing
# (proved by deleting the model files), --write-to-registry and config errors.
. "$MP_SRCDIR/tests/lib.sh"
R="$T/reg"
model_a "$T/a.safetensors"
cp "$T/a.safetensors" "$T/b.safetensors"
model_c "$T/c.safetensors"
for m in a b c; do
	"$MP_BIN" registry --registry "$R" add "$T/$m.safetensors" --name "model-$m" >/dev/null ||
		fail "registry add $m"
done
cat > "$T/cfg.json" <<'CFG'
{"models": ["1", "2", 3], "methods": ["tensors", "spectral"],
 "method_args": {"tensors": {"sketch_size": 16}},
 "metrics": ["exact", "cosine", "js"]}
CFG
out=$("$MP_BIN" run --config "$T/cfg.json" --registry "$R" --global-registry "$R" \
	--write-to-registry --output-dir "$T/out") || fail "run exited $?"
echo "$out" | grep -q "fingerprints: 6 computed, 0 reused" || fail "first run: $out"
[ -s "$T/out/fingerprints.json" ] && [ -s "$T/out/similarity_matrices.json" ] ||
	fail "result files missing"
# A and B are byte copies: exact = 1 between them; C shares no bytes.
echo "$out" | sed -n '/tensors \/ exact/,/^$/p' | grep -Eq '^ +1 +1\.0000 +1\.0000 +0\.0000$' ||
	fail "exact row of model 1: $out"
# cosine of A and C from the 16-value sketch (all 6 values): hand computed
# w: a=(1,2,3,4) c=(4,3,-1,1): dot 11, |a|^2 30, |c|^2 27 -> 0.38650
# b: a=(-1,.5) c=(.5,2): dot 0.5, |a|^2 1.25, |c|^2 4.25 -> 0.21693
# element-weighted: (4*0.38650 + 2*0.21693)/6 = 0.32998
echo "$out" | sed -n '/tensors \/ cosine/,/^$/p' | grep -Eq '^ +3 +0\.3300 +0\.3300 +1\.0000$' ||
	fail "cosine row of model 3: $out"
grep -q '"higher_is_more_alike":false' "$T/out/similarity_matrices.json" ||
	fail "js is not marked as a divergence"
ok "run computes and writes"

# --exact: with one-value sketches the estimate of cosine(A, C) is poor;
# --exact gives the full-tensor value 0.329977 worked out above.
printf '{"models":["1","3"],"methods":["tensors"],"method_args":{"tensors":{"sketch_size":1}},"metrics":["cosine"]}' > "$T/cfg1.json"
out=$("$MP_BIN" run --config "$T/cfg1.json" --registry "$R" --output-dir "$T/o1") || fail "sketch_size 1 run"
echo "$out" | grep -Eq '^ +3 +0\.3300 +1\.0000$' && fail "a one-value sketch should not give the exact cosine: $out"
out=$("$MP_BIN" run --config "$T/cfg1.json" --registry "$R" --exact --output-dir "$T/o2") || fail "--exact run"
echo "$out" | grep -Eq '^ +3 +0\.3300 +1\.0000$' || fail "--exact cosine: $out"
ok "--exact uses the full tensors"

# Second run takes everything from the registry, even without the files.
rm "$T/a.safetensors" "$T/b.safetensors" "$T/c.safetensors"
out=$("$MP_BIN" run --config "$T/cfg.json" --registry "$R" --use-existing \
	--output-dir "$T/out2") || fail "use-existing run exited $?"
echo "$out" | grep -q "fingerprints: 0 computed, 6 reused" || fail "reuse: $out"
cmp -s "$T/out/similarity_matrices.json" "$T/out2/similarity_matrices.json" ||
	fail "reused fingerprints gave different matrices"
ok "--use-existing recomputes nothing"

expect_error() { # label expected-phrase args...
	label=$1 phrase=$2; shift 2
	if err=$("$MP_BIN" "$@" 2>&1 >/dev/null); then fail "$label: exit 0"; return; fi
	echo "$err" | grep -q "$phrase" || fail "$label: message '$err'"
}
printf '{"models":["1","99"],"methods":["tensors"],"metrics":["exact"]}' > "$T/bad1.json"
expect_error "unknown id" "valid: 1, 2, 3" run --config "$T/bad1.json" --registry "$R" --output-dir "$T/o"
printf '{"models":["1"],"methods":["nope"],"metrics":["exact"]}' > "$T/bad2.json"
expect_error "unknown method" "valid: tensors, spectral" run --config "$T/bad2.json" --registry "$R" --output-dir "$T/o"
printf '{"models":["1"],"methods":["tensors"],"metrics":["bogus"]}' > "$T/bad3.json"
expect_error "unknown metric" "cosine (tensors)" run --config "$T/bad3.json" --registry "$R" --output-dir "$T/o"
printf '{"models":["1"],"methods":["tensors"],"method_args":{"tensors":{"foo":1}},"metrics":["exact"]}' > "$T/bad4.json"
expect_error "unknown argument" "valid: sketch_size, seed" run --config "$T/bad4.json" --registry "$R" --output-dir "$T/o"
printf '{"models":["1"],' > "$T/bad5.json"
expect_error "broken JSON" "bad5.json" run --config "$T/bad5.json" --registry "$R" --output-dir "$T/o"
expect_error "write without global" "needs a global" run --config "$T/cfg.json" --registry "$R" --write-to-registry
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/ro" && chmod 555 "$T/ro"
	expect_error "read-only global" "cannot write the registry" run --config "$T/cfg.json" \
		--global-registry "$T/ro" --registry "$T/ro" --write-to-registry
fi
ok "config errors name the valid choices"
finish
