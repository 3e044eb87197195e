#!/bin/sh
# tests/run.sh — experiments end to end: registry, run, --use-existing
# (proved by deleting the model files), --write-to-registry and config errors.
. "$MP_SRCDIR/tests/lib.sh"
R="$T/reg"
model_a "$T/a.safetensors"
cp "$T/a.safetensors" "$T/b.safetensors"
model_c "$T/c.safetensors"
for m in a b c; do
	"$MP_BIN" registry --registry "$R" add "$T/$m.safetensors" --name "model-$m" --force >/dev/null ||
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
echo "$out" | sed -n '/tensors \/ exact/,/^$/p' | grep -Eq '^ +1 +1 +1 +0$' ||
	fail "exact row of model 1: $out"
# cosine of A and C from the 16-value sketch (all 6 values): hand computed
# w: a=(1,2,3,4) c=(4,3,-1,1): dot 11, |a|^2 30, |c|^2 27 -> 0.386501
# b: a=(-1,.5) c=(.5,2): dot 0.5, |a|^2 1.25, |c|^2 4.25 -> 0.216930
# element-weighted: (4*0.386501 + 2*0.216930)/6 = 0.329977 (6 digits)
echo "$out" | sed -n '/tensors \/ cosine/,/^$/p' | grep -Eq '^ +3 +0\.329977 +0\.329977 +1$' ||
	fail "cosine row of model 3: $out"
grep -q '"higher_is_more_alike":false' "$T/out/similarity_matrices.json" ||
	fail "js is not marked as a divergence"
ok "run computes and writes"

# --matrix-format binary: each matrix also as METHOD.METRIC.mpsim, read
# back (by convert) to the JSON's values; a bad format is a usage error
out=$("$MP_BIN" run --config "$T/cfg.json" --registry "$R" --use-existing \
	--matrix-format binary --output-dir "$T/outb") || fail "run --matrix-format binary exited $?"
for mm in tensors.exact tensors.cosine spectral.js; do
	[ -s "$T/outb/$mm.mpsim" ] || fail "no $mm.mpsim: $out"
	echo "$out" | grep -qF "wrote $T/outb/$mm.mpsim" || fail "not reported: $mm"
done
[ "$(head -c 6 "$T/outb/spectral.js.mpsim")" = MPSIM1 ] || fail "binary magic"
python3 - "$T/outb" <<'PY' || fail "binary matrices differ from the JSON"
import json, math, struct, sys
d = sys.argv[1]
js = json.load(open(d + "/similarity_matrices.json"))["matrices"]
for me, mts in js.items():
    for mt, m in mts.items():
        b = open("%s/%s.%s.mpsim" % (d, me, mt), "rb").read()
        vsize, n, hlen = struct.unpack_from("<IQQ", b, 12)
        assert vsize == 8 and n == len(m["models"]) and len(b) == hlen + 8 * n * n
        vals = struct.unpack_from("<%dd" % (n * n), b, hlen)
        want = [x for row in m["values"] for x in row]
        for x, y in zip(vals, want):
            assert (y is None and math.isnan(x)) or x == y, (me, mt, x, y)
PY
rc=0; "$MP_BIN" run --config "$T/cfg.json" --matrix-format csv >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--matrix-format csv: exit $rc"
ok "run --matrix-format binary"

# progress for the whole job, on a terminal only: step k of 6, the model's
# name and method, and at each step's start the share of the job's bytes
# done: sizes of the files before it over twice the three files' sizes
if command -v script >/dev/null; then
	env -u CI script -qec "stty cols 100; '$MP_BIN' run --config '$T/cfg.json' --registry '$R' --output-dir '$T/outp' >/dev/null" \
		/dev/null | tr '\r' '\n' > "$T/progress" 2>&1 || fail "run on a pty exited $?"
	sa=$(wc -c < "$T/a.safetensors"); sb=$(wc -c < "$T/b.safetensors"); sc=$(wc -c < "$T/c.safetensors")
	k=0
	for step in "model-a tensors" "model-a spectral" "model-b tensors" \
		"model-b spectral" "model-c tensors" "model-c spectral"; do
		pct=$(awk -v k=$k -v a=$sa -v b=$sb -v c=$sc 'BEGIN { s[0] = a; s[1] = b; s[2] = c
			for (i = 0; i < k; i++) d += s[int(i / 2)]; printf "%d", 100 * d / (2 * (a + b + c)) }')
		k=$((k + 1))
		grep -Eq "^\[$k/6\] $step \[[# ]{10}\] +$pct% [0-9.]+/[0-9.]+ MB [0-9.]+ MB/s ([0-9:]+|\?) left" "$T/progress" ||
			fail "progress of step $k ($step, $pct%): $(cat -v "$T/progress")"
	done
	grep -q "\[6/6\] model-c spectral \[##########\] 100% " "$T/progress" || fail "progress end: $(cat -v "$T/progress")"
	"$MP_BIN" run --config "$T/cfg.json" --registry "$R" --output-dir "$T/outq" 2>"$T/noprogress" >/dev/null ||
		fail "run without a terminal exited $?"
	[ -s "$T/noprogress" ] && fail "progress without a terminal: $(cat -v "$T/noprogress")"
	ok "progress for the whole job, on a terminal only"
fi

# --exact: with one-value sketches the estimate of cosine(A, C) is poor;
# --exact gives the full-tensor value 0.329977 worked out above.
printf '{"models":["1","3"],"methods":["tensors"],"method_args":{"tensors":{"sketch_size":1}},"metrics":["cosine"]}' > "$T/cfg1.json"
out=$("$MP_BIN" run --config "$T/cfg1.json" --registry "$R" --output-dir "$T/o1") || fail "sketch_size 1 run"
echo "$out" | grep -Eq '^ +3 +0\.329977 +1$' && fail "a one-value sketch should not give the exact cosine: $out"
out=$("$MP_BIN" run --config "$T/cfg1.json" --registry "$R" --exact --output-dir "$T/o2") || fail "--exact run"
echo "$out" | grep -Eq '^ +3 +0\.329977 +1$' || fail "--exact cosine: $out"
# the matrices record how their values were obtained: 16-value sketches
# hold all 6 values of every tensor (exact); one-value sketches are an
# estimate from 1 value per tensor; --exact is exact
M='"models":\[[^]]*\],"higher_is_more_alike":true,"estimate":'
grep -q "\"cosine\":{$M{\"kind\":\"exact\"}" "$T/out/similarity_matrices.json" ||
	fail "16-value sketch of 6 values: not recorded as exact"
grep -q "\"cosine\":{$M{\"kind\":\"sketch\",\"values\":1}" "$T/o1/similarity_matrices.json" ||
	fail "one-value sketch: not recorded as a sketch estimate"
"$MP_BIN" run --config "$T/cfg1.json" --registry "$R" --output-dir "$T/o1" |
	grep -qx "cosine: sketch estimate from 1 value per tensor" || fail "run prints the estimate"
grep -q "\"cosine\":{$M{\"kind\":\"exact\"}" "$T/o2/similarity_matrices.json" ||
	fail "--exact: not recorded as exact"
ok "--exact uses the full tensors"

# spectral's output_axis in method_args: recorded in the fingerprints'
# args, so a stored fingerprint is reused for the same axis only
cp -r "$R" "$T/reg2"
ax() { printf '{"models":["1","2","3"],"methods":["spectral"],"method_args":{"spectral":{"output_axis":"%s"}},"metrics":["js"]}' "$1"; }
ax last > "$T/ax-last.json"
ax first > "$T/ax-first.json"
ax up > "$T/ax-up.json"
out=$("$MP_BIN" run --config "$T/ax-last.json" --registry "$T/reg2" --global-registry "$T/reg2" \
	--write-to-registry --output-dir "$T/oax") || fail "output_axis run exited $?"
echo "$out" | grep -q "fingerprints: 3 computed, 0 reused" || fail "output_axis first run: $out"
"$MP_BIN" registry --registry "$T/reg2" export "$T/exp2" || fail "export"
tr -d ' \t\n' < "$T/exp2/fingerprints/1.spectral.json" | grep -q '"args":{"output_axis":"last"}' ||
	fail "output_axis not in the stored fingerprint's args"
out=$("$MP_BIN" run --config "$T/ax-last.json" --registry "$T/reg2" --use-existing --output-dir "$T/oax") ||
	fail "output_axis reuse exited $?"
echo "$out" | grep -q "fingerprints: 0 computed, 3 reused" || fail "output_axis last reused: $out"
out=$("$MP_BIN" run --config "$T/ax-first.json" --registry "$T/reg2" --use-existing --output-dir "$T/oax") ||
	fail "output_axis first exited $?"
echo "$out" | grep -q "fingerprints: 3 computed, 0 reused" || fail "output_axis first reused last's: $out"
err=$("$MP_BIN" run --config "$T/ax-up.json" --registry "$T/reg2" --output-dir "$T/oax" 2>&1) &&
	fail "output_axis up accepted"
echo "$err" | grep -q "ax-up.json: spectral: argument output_axis must be \"first\" or \"last\"" ||
	fail "output_axis up: $err"
ok "spectral output_axis from method_args, reused only for the same axis"

# Second run takes everything from the registry, even without the files.
rm "$T/a.safetensors" "$T/b.safetensors" "$T/c.safetensors"
out=$("$MP_BIN" run --config "$T/cfg.json" --registry "$R" --use-existing \
	--output-dir "$T/out2") || fail "use-existing run exited $?"
echo "$out" | grep -q "fingerprints: 0 computed, 6 reused" || fail "reuse: $out"
cmp -s "$T/out/similarity_matrices.json" "$T/out2/similarity_matrices.json" ||
	fail "reused fingerprints gave different matrices"
ok "--use-existing recomputes nothing"

# --use-existing checks that a stored fingerprint is this model's: model
# 1's fingerprint filed as model 3's (model_id edited to 3, so only the
# file SHA-256s tell), model 2's filed as model 1's (same bytes, other
# model_id), and one made with other method arguments. Without the model
# files each is an error naming the fingerprint file and the reason.
# The forgeries are made in exported copies of the registry (directory
# registries, imported when first opened).
"$MP_BIN" registry --registry "$R" export "$T/base" || fail "export"
forge() { # name: a fresh copy of the export in $G, its fingerprints in $FP
	G="$T/forge-$1"; rm -rf "$G"; cp -r "$T/base" "$G"; FP="$G/fingerprints"; }
forge other-files
sed 's/"model_id":"1"/"model_id":"3"/' "$T/base/fingerprints/1.tensors.json" > "$FP/3.tensors.json"
grep -q '"model_id":"3"' "$FP/3.tensors.json" || fail "could not forge model 3's fingerprint"
expect_stale() { # label cfg expected-message
	rc=0; err=$("$MP_BIN" run --config "$2" --registry "$G" --use-existing \
		--output-dir "$T/o3" 2>&1 >/dev/null) || rc=$?
	[ $rc = 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] &&
		printf '%s\n' "$err" | grep -qF "$3" || fail "$1: exit $rc, '$err'"
}
expect_stale "other files" "$T/cfg.json" \
	"$G: fingerprint of model 3 (tensors) is stale (its files' SHA-256s are not those of the registry entry), and the model cannot be opened"
forge other-model
cp "$FP/2.tensors.json" "$FP/1.tensors.json"
expect_stale "other model" "$T/cfg.json" \
	"$G: fingerprint of model 1 (tensors) is stale (it belongs to model '2')"
forge other-args
sed 's/"sketch_size": 16/"sketch_size": 8/' "$T/cfg.json" > "$T/cfg8.json"
expect_stale "other arguments" "$T/cfg8.json" \
	"fingerprint of model 1 (tensors) is stale (its method arguments are not the config's)"
# With the files at hand the stale one is recomputed, with a notice, and
# model 3 gets its own values (hand-computed row as above, not 1's).
model_a "$T/a.safetensors"
model_c "$T/c.safetensors"
forge recompute
sed 's/"model_id":"1"/"model_id":"3"/' "$T/base/fingerprints/1.tensors.json" > "$FP/3.tensors.json"
R="$G"
out=$("$MP_BIN" run --config "$T/cfg.json" --registry "$R" --use-existing \
	--output-dir "$T/o4" 2>"$T/stale.err") || fail "stale recompute exited $?"
grep -q "fingerprint of model 3 (tensors) is stale: recomputing" "$T/stale.err" ||
	fail "no stale notice: $(cat "$T/stale.err")"
echo "$out" | grep -q "fingerprints: 1 computed, 5 reused" || fail "stale recompute: $out"
echo "$out" | sed -n '/tensors \/ cosine/,/^$/p' | grep -Eq '^ +3 +0\.329977 +0\.329977 +1$' ||
	fail "cosine row of model 3 after recompute: $out"
rm "$T/a.safetensors" "$T/c.safetensors"
ok "--use-existing refuses another model's fingerprint"

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
printf '{"models":["1"],"methods":["tensors"],"metrics":["exact"],"comment":"x"}' > "$T/bad6.json"
expect_error "unknown field" "bad6.json: unknown field 'comment' (valid: models, methods, method_args, metrics)" \
	run --config "$T/bad6.json" --registry "$R" --output-dir "$T/o"
ok "config errors name the valid choices"

# 100,000 model ids, one unknown: reported within seconds (the duplicate
# check and the lookups were quadratic: over 200 s here; now about 0.5 s).
B="$T/big"
mkdir -p "$B"
awk 'BEGIN { printf "{\"models\": ["; for (i = 1; i <= 100000; i++)
	printf "%s{\"id\": \"%d\", \"path\": \"/m\"}", (i > 1 ? "," : ""), i; print "]}" }' > "$B/models.json"
awk 'BEGIN { printf "{\"models\": ["; for (i = 1; i <= 100000; i++)
	printf "%s\"%d\"", (i > 1 ? "," : ""), (i == 77777 ? 100005 : i)
	print "], \"methods\": [\"tensors\"], \"metrics\": [\"l1\"]}" }' > "$T/big.json"
s0=$(date +%s.%N)
rc=0; err=$(timeout 60 "$MP_BIN" run --config "$T/big.json" --registry "$B" --output-dir "$T/o" 2>&1) || rc=$?
s1=$(date +%s.%N)
[ $rc = 1 ] && echo "$err" | grep -q "unknown model id '100005'" || fail "100,000 ids: exit $rc, '$err'"
ok "one unknown id among 100,000 reported in $(echo "$s1 - $s0" | bc 2>/dev/null || echo "?") s"
# --shard K/N: a stable split by model id (shard = SHA-256(id)[0..8],
# big-endian, mod N, plus 1: from python3's hashlib here), each shard's
# fingerprints stored in the registry, no matrices; a rerun skips what is
# stored; then --use-existing computes the matrices from the registry alone,
# equal to a single run's.
S="$T/shard"
mkdir -p "$S"
model_a "$S/a.safetensors"
model_c "$S/c.safetensors"
cp "$S/a.safetensors" "$S/b.safetensors"
for m in a b c a c b; do
	"$MP_BIN" registry --registry "$S/reg.sqlite" add "$S/$m.safetensors" --force >/dev/null ||
		fail "shard registry add $m"
done
cp "$S/reg.sqlite" "$S/single.sqlite"
printf '{"models":["1","2","3","4","5","6"],"methods":["tensors","spectral"],"metrics":["cosine","js"]}' > "$S/cfg.json"
shard_of() { python3 -c 'import hashlib, sys
n = int(sys.argv[1])
for i in sys.argv[2:]:
    print(i, int.from_bytes(hashlib.sha256(i.encode()).digest()[:8], "big") % n + 1)' "$@"; }
shard_of 3 1 2 3 4 5 6 > "$S/split"
total=0
for k in 1 2 3; do
	mine=$(awk -v k=$k '$2 == k' "$S/split" | wc -l)
	total=$((total + mine))
	out=$("$MP_BIN" run --config "$S/cfg.json" --registry "$S/reg.sqlite" --shard $k/3 2>&1) ||
		fail "shard $k/3 exited $?: $out"
	echo "$out" | grep -qx "shard $k/3: $mine models done, 0 skipped (already in the registry), $((6 - mine)) in other shards" ||
		fail "shard $k/3 summary ($mine of 6 expected): $out"
	echo "$out" | grep -qx "fingerprints: $((2 * mine)) computed, 0 reused" || fail "shard $k/3 count: $out"
	echo "$out" | grep -q "^wrote" && fail "shard $k/3 wrote results: $out"
done
[ $total = 6 ] || fail "the shards cover $total of 6 models"
n=$(sqlite3 "$S/reg.sqlite" 'SELECT count(*) FROM fingerprints')
[ "$n" = 12 ] || fail "12 fingerprints expected in the registry, $n there"
# one model's spectral fingerprint lost (a task killed before it stored):
# the rerun of its shard redoes that model only
sqlite3 "$S/reg.sqlite" "DELETE FROM fingerprints WHERE model_id = '5' AND method = 'spectral'"
k5=$(awk '$1 == 5 { print $2 }' "$S/split")
mine=$(awk -v k=$k5 '$2 == k' "$S/split" | wc -l)
out=$("$MP_BIN" run --config "$S/cfg.json" --registry "$S/reg.sqlite" --shard $k5/3 2>&1) ||
	fail "shard rerun exited $?: $out"
echo "$out" | grep -qx "shard $k5/3: 1 models done, $((mine - 1)) skipped (already in the registry), $((6 - mine)) in other shards" ||
	fail "shard rerun summary: $out"
echo "$out" | grep -qx "fingerprints: 1 computed, $((2 * mine - 1)) reused" || fail "shard rerun count: $out"
out=$("$MP_BIN" run --config "$S/cfg.json" --registry "$S/reg.sqlite" --use-existing --output-dir "$S/o1") ||
	fail "use-existing after shards exited $?"
echo "$out" | grep -q "fingerprints: 0 computed, 12 reused" || fail "use-existing after shards: $out"
"$MP_BIN" run --config "$S/cfg.json" --registry "$S/single.sqlite" --output-dir "$S/o2" >/dev/null ||
	fail "single run"
cmp -s "$S/o1/similarity_matrices.json" "$S/o2/similarity_matrices.json" ||
	fail "matrices from the shards differ from a single run's"
ok "--shard K/N splits by model id; a rerun redoes only what is missing"

# --shard auto: K and N from the Slurm array variables (an array 1-N or
# 0-(N-1)); missing or inconsistent ones are one clear error
k1=$(awk '$1 == 1 { print $2 }' "$S/split")
auto() { env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_MIN -u SLURM_ARRAY_TASK_MAX \
	-u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_STEP "$@" \
	"$MP_BIN" run --config "$S/cfg.json" --registry "$S/reg.sqlite" --shard auto 2>&1; }
out=$(auto SLURM_ARRAY_TASK_ID=$k1 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_STEP=1) ||
	fail "auto 1-based: $out"
echo "$out" | grep -q "^shard $k1/3: 0 models done, [1-9] skipped" || fail "auto 1-based: $out"
out=$(auto SLURM_ARRAY_TASK_ID=$((k1 - 1)) SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=2) || fail "auto 0-based: $out"
echo "$out" | grep -q "^shard $k1/3: " || fail "auto 0-based: $out"
auto_error() { # label expected env...
	label=$1 phrase=$2; shift 2
	rc=0; err=$(auto "$@") || rc=$?
	[ $rc = 2 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -le 2 ] &&
		printf '%s\n' "$err" | head -1 | grep -qF "$phrase" || fail "auto $label: exit $rc, '$err'"
}
auto_error "no task id" "SLURM_ARRAY_TASK_ID is not set" SLURM_ARRAY_TASK_MAX=3
auto_error "no max or count" "neither SLURM_ARRAY_TASK_MAX nor SLURM_ARRAY_TASK_COUNT" SLURM_ARRAY_TASK_ID=1
auto_error "gaps" "SLURM_ARRAY_TASK_COUNT=2 but MIN..MAX is 1..3" SLURM_ARRAY_TASK_ID=1 \
	SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=2
auto_error "step" "SLURM_ARRAY_TASK_STEP=2" SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=1 \
	SLURM_ARRAY_TASK_MAX=5 SLURM_ARRAY_TASK_STEP=2
auto_error "outside" "SLURM_ARRAY_TASK_ID=7 is outside 1..3" SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_COUNT=3
auto_error "not a number" "SLURM_ARRAY_TASK_ID='1x' is not a task number" SLURM_ARRAY_TASK_ID=1x SLURM_ARRAY_TASK_COUNT=3
ok "--shard auto from the Slurm array variables"

for bad in 0/3 4/3 3 1/0 a/b 1/3x; do
	expect_error "--shard $bad" "shard '$bad'" run --config "$S/cfg.json" --registry "$S/reg.sqlite" --shard "$bad"
done
expect_error "--shard without a registry" "shard needs the registry" run --config "$S/cfg.json" --shard 1/2
expect_error "--shard with --output-dir" "shard computes no matrices" run --config "$S/cfg.json" \
	--registry "$S/reg.sqlite" --shard 1/2 --output-dir "$S/o3"
expect_error "--shard, two registries" "use one registry" run --config "$S/cfg.json" \
	--registry "$S/reg.sqlite" --global-registry "$S/other" --shard 1/2
ok "--shard errors"

# the demo (data/demo) reruns from its registry alone, every model file
# gone: its fingerprints are reused, input_output does not apply to the
# TF.js models (not opened), and the matrices are those of the demo
D="$MP_SRCDIR/data/demo"
mkdir -p "$T/demo-reg"
cp -R "$D/registry/models.json" "$D/registry/fingerprints" "$T/demo-reg/"
sed -i 's|"path":\t"/|"path":\t"/nonexistent/|' "$T/demo-reg/models.json"
nmod=$(grep -c '"model_id"' "$D/model-info.json")
nlm=$(grep -c '"family": "language models"' "$D/model-info.json")
out=$("$MP_BIN" run --config "$D/config.json" --registry "$T/demo-reg" --use-existing \
	--output-dir "$T/demo-out" 2>"$T/demo-err") || fail "demo rerun: exit $?: $(head -3 "$T/demo-err")"
echo "$out" | grep -qx "fingerprints: 0 computed, $((nmod * 4 - (nmod - nlm))) reused, $((nmod - nlm)) not applicable (their cells undefined)" ||
	fail "demo rerun: $(echo "$out" | head -1)"
[ "$(grep -c 'not applicable: input_output does not apply to a tfjs model' "$T/demo-err")" -eq $((nmod - nlm)) ] ||
	fail "demo rerun notices: $(head -2 "$T/demo-err")"
python3 - "$T/demo-out/similarity_matrices.json" "$D/results/similarity_matrices.json" <<'PY' || fail "demo rerun: other matrices"
import json, sys
a, b = (json.load(open(f))["matrices"] for f in sys.argv[1:])
assert a == b
PY
ok "the demo reruns from its registry without any model file"
finish
