#!/bin/sh
# tests/tui-data.sh — the user's own data reaches the interface: with no
# options `modelprint tui` opens $MODELPRINT_REGISTRY (else the default
# registry) and the newest run output (./modelprint-results or
# REGISTRY/results), says so on the first screen, and reads the run's
# fingerprints.json for the detail and pair views; --results takes a run
# output directory; without a registry, the demo (and says so).
. "$MP_SRCDIR/tests/lib.sh"
R="$T/reg"
model_a "$T/a.safetensors"
model_c "$T/c.safetensors"
for m in a c; do
	"$MP_BIN" registry --registry "$R" add "$T/$m.safetensors" --name "model-$m" >/dev/null ||
		fail "registry add $m"
done
printf '{"models":["1","2"],"methods":["tensors","spectral"],"metrics":["cosine","js"]}' > "$T/cfg.json"
mkdir "$T/work"
cd "$T/work" || exit 1
# run writes ./modelprint-results by default; the registry gets no fingerprints
"$MP_BIN" run --config "$T/cfg.json" --registry "$R" >/dev/null || fail "run exited $?"
[ -s modelprint-results/fingerprints.json ] || fail "run wrote no fingerprints.json"
[ -z "$(ls "$R/fingerprints" 2>/dev/null)" ] ||
	fail "the registry should hold no fingerprints for this test"

scr() { NO_COLOR=1 "$MP_BIN" tui "$@"; }
out=$(MODELPRINT_REGISTRY="$R" scr --size 100x24 --screen '') || fail "tui on the user's registry: exit $?"
echo "$out" | tail -1 | grep -qF "your registry $R, results modelprint-results/" ||
	fail "status line does not say where the data came from: $(echo "$out" | tail -1)"
echo "$out" | grep -q 'model-a' && echo "$out" | grep -q 'model-c' ||
	fail "the registry's models are not listed: $out"
echo "$out" | grep -q 'blazeface' && fail "the demo was opened instead of the registry"
ok "no options: the user's registry and ./modelprint-results"

# model 1 is model_a: w (2x2) and b (2) are 6 F32 parameters in 2 tensors;
# its spectral histogram comes from the run's fingerprints.json
out=$(MODELPRINT_REGISTRY="$R" scr --size 100x40 --screen '<Enter>') || fail "detail: exit $?"
echo "$out" | grep -q '^6 parameters in 2 tensors | F32 100%' || fail "detail has no tensors fingerprint: $out"
echo "$out" | grep -q 'no spectral fingerprint' && fail "detail cannot read the run's spectral fingerprint: $out"
echo "$out" | grep -q 'no tensors fingerprint' && fail "detail cannot read the run's tensors fingerprint"
echo "$out" | grep -Eq '^w +2x2 +F32' || fail "tensor w missing from the detail view: $out"
ok "detail view reads the run's fingerprints.json"

# --results DIR (a run output directory) from elsewhere, with --registry
mv modelprint-results "$T/out"
cd "$T" || exit 1
out=$(scr --size 100x24 --registry "$R" --results "$T/out" --screen '<Enter>') || fail "--results DIR: exit $?"
echo "$out" | grep -q '^6 parameters in 2 tensors' || fail "--results DIR: no fingerprints: $out"
echo "$out" | grep -q 'no spectral fingerprint' && fail "--results DIR: no spectral fingerprint"
# a run output without a registry: the models still have their fingerprints
out=$(scr --size 100x24 --results "$T/out/similarity_matrices.json" --screen '<Enter>') || fail "--results FILE: exit $?"
echo "$out" | grep -q '^6 parameters in 2 tensors' || fail "--results FILE: fingerprints beside it not read: $out"
# the pair view counts the tensors the two models share (w and b)
out=$(scr --size 100x24 --results "$T/out" --screen '4<Enter>') || fail "pair view: exit $?"
echo "$out" | grep -q '^2 tensors in common' || fail "pair view: $out"
ok "--results DIR and FILE read the run's fingerprints"

# REGISTRY/results, when newer than ./modelprint-results, is the one opened
mkdir -p "$T/work/modelprint-results" "$R/results"
cp "$T/out/"*.json "$T/work/modelprint-results/"
touch -d '2001-01-01' "$T/work/modelprint-results/similarity_matrices.json"
cp "$T/out/"*.json "$R/results/"
cd "$T/work" || exit 1
out=$(MODELPRINT_REGISTRY="$R" scr --size 100x24 --screen '') || fail "registry results: exit $?"
echo "$out" | tail -1 | grep -qF "results $R/results/" || fail "newest results not chosen: $(echo "$out" | tail -1)"
rm -r "$R/results" "$T/work/modelprint-results"
out=$(MODELPRINT_REGISTRY="$R" scr --size 100x24 --screen '') || fail "registry without results: exit $?"
echo "$out" | tail -1 | grep -qF "no run output" || fail "no results not said: $(echo "$out" | tail -1)"
ok "the newest run output is opened"

# no registry: the demo, and the status line says so
out=$(MODELPRINT_REGISTRY="$T/none" scr --size 100x24 --screen '') || fail "demo: exit $?"
echo "$out" | tail -1 | grep -qF "demo data: no registry at $T/none" || fail "demo not said: $(echo "$out" | tail -1)"
echo "$out" | grep -q 'blazeface' || fail "the demo did not open"
# a broken registry is an error, not the demo
# a binary similarity-matrix file (matrix convert) opens as its JSON does:
# the same heatmap and statistics screens (but the status line's path)
D="$MP_SRCDIR/data/demo"
python3 - "$D/results/similarity_matrices.json" "$T/one.json" <<'PY' || fail "python: one matrix"
import json, sys
d = json.load(open(sys.argv[1]))
json.dump({"matrices": {"spectral": {"js": d["matrices"]["spectral"]["js"]}}},
          open(sys.argv[2], "w"))
PY
"$MP_BIN" matrix convert "$T/one.json" "$T/one.mpsim" --float32 >/dev/null || fail "convert"
python3 - "$T/one.json" <<'PY' || fail "python: float32 rounding"
import json, struct, sys
d = json.load(open(sys.argv[1]))
m = d["matrices"]["spectral"]["js"]
m["values"] = [[None if v is None else struct.unpack("<f", struct.pack("<f", v))[0]
                for v in row] for row in m["values"]]
json.dump(d, open(sys.argv[1], "w"))
PY
for keys in '2' '3' '2++<Right>'; do
	a=$(scr --size 100x30 --results "$T/one.json" --model-info "$D/model-info.json" --screen "$keys") ||
		fail "tui on JSON: exit $?"
	b=$(scr --size 100x30 --results "$T/one.mpsim" --model-info "$D/model-info.json" --screen "$keys") ||
		fail "tui on the binary file: exit $?"
	[ "$(echo "$a" | sed '$d')" = "$(echo "$b" | sed '$d')" ] ||
		fail "screen '$keys' differs on the binary file: $b"
	echo "$b" | grep -q 'spectral/js' || fail "screen '$keys': $b"
done
rc=0; err=$("$MP_BIN" tui --results "$MP_SRCDIR/tests/broken/mpsim-lying-n.mpsim" --screen '' 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "mpsim-lying-n.mpsim: binary similarity matrix: 3 models" ||
	fail "hostile binary file: $rc $err"
ok "tui reads the binary matrix form"

echo '{' > "$T/none.json"; mkdir -p "$T/broken"; echo '{' > "$T/broken/models.json"
rc=0; err=$(MODELPRINT_REGISTRY="$T/broken" "$MP_BIN" tui --screen '' 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "broken/models.json" || fail "broken registry: $rc $err"
ok "no registry: the demo"
finish
