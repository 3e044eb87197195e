#!/bin/sh
# tests/tui-screens.sh — the interface without a terminal: key scripts
# replayed on the demo data (modelprint tui --screen) give the screens in
# tests/golden/; the key table of `modelprint tui --keys` is the one in
# man/modelprint-tui.1; no terminal gives a clear error.
# MP_GOLDEN_WRITE=1 rewrites the golden files (then read every one).
. "$MP_SRCDIR/tests/lib.sh"
demo="$MP_SRCDIR/data/demo"
tui() {
	"$MP_BIN" tui --registry "$demo/registry" \
		--results "$demo/results/similarity_matrices.json" \
		--model-info "$demo/model-info.json" "$@"
}
# name | size | NO_COLOR | keys
while IFS='|' read -r name size nocolor keys; do
	[ -n "$name" ] || continue
	g="$MP_SRCDIR/tests/golden/$name.txt"
	out="$T/$name.txt"
	if [ "$nocolor" = 1 ]; then
		NO_COLOR=1 tui --size "$size" --screen "$keys" > "$out" || fail "$name: exit $?"
	else
		env -u NO_COLOR "$MP_BIN" tui --registry "$demo/registry" \
			--results "$demo/results/similarity_matrices.json" \
			--model-info "$demo/model-info.json" \
			--size "$size" --screen "$keys" > "$out" || fail "$name: exit $?"
	fi
	if [ "${MP_GOLDEN_WRITE:-}" = 1 ]; then
		cp "$out" "$g"
	elif ! cmp -s "$out" "$g"; then
		fail "$name: screen differs from tests/golden/$name.txt"
		diff -u "$g" "$out" | head -20
	fi
done <<'SCREENS'
models|80x24|1|
models-params|80x24|1|sssss
models-search|80x24|1|/pose<Enter>n
models-wide|110x12|1|
detail|80x24|1|/blazeface-front<Enter><Enter>
detail-tensors|80x24|1|/blazeface-front<Enter><Enter>G
heatmap|80x24|1|2
heatmap-120|120x40|1|2
heatmap-200|200x60|1|2
heatmap-move|80x24|1|2jjjjjlll+
heatmap-js-cluster|80x24|1|2mmo
heatmap-color|80x24|0|2jl
heatmap-color-120|120x40|0|2jjjl
heatmap-color-200|200x60|0|2jjjl
heatmap-nulls|80x24|0|2mmm
heatmap-max-minmax|80x24|1|2ar
heatmap-columns|80x24|1|2c
heatmap-wide|120x40|1|2mm-
stats|80x24|1|3
stats-typepairs|80x24|1|3ff
stats-group|80x24|1|3<Enter>
pairs|80x24|1|4
pairs-inter|80x24|1|4ff
pair|80x24|1|4<Enter>
clusters|80x24|1|5m
clusters-cut|80x24|1|5m>>>>>>>>>>>>>>>>jjjjc
clusters-heatmap|80x24|1|5m>>>>>>>>>>>>>>>>jjjj<Enter>
help|80x24|1|?
pairs-wide|200x30|1|4jjjjj
detail-wide|200x40|1|/blazeface-front<Enter><Enter>G
matrices|80x24|1|2M
models-search-back|80x24|1|/pose<Enter>N
models-filter|80x24|1||face
pairs-filter|80x24|1|4|blaze<Enter>j
identify|80x24|1|i
identify-scores|80x24|1|ijjjjjjjjjj<Enter>
detail-sparsity|80x24|1|/blazeface-front<Enter><Enter>z
heatmap-io|80x24|1|2mmmmmmm
heatmap-io-200|200x80|1|2mmmmmmm
stats-io|100x24|1|2mmmmmmm3
stats-io-types|100x16|1|2mmmmmmm3ff
models-lm|100x24|1||language
SCREENS
ok "golden screens"

# the language models on those screens, computed here from model-info.json
# and the matrix file: their family's row of input_output/l1 (pairs of
# them, no null, the mean of their off-diagonal cells), the type pairs
# within the family, the filter's count; the TF.js models' cells are null
# because input_output does not apply to them
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
$PY - "$demo/results/similarity_matrices.json" "$demo/model-info.json" \
	"$T/stats-io.txt" "$T/stats-io-types.txt" "$T/models-lm.txt" \
	"$T/heatmap-io.txt" <<'PY' || fail "the language models' screens"
import itertools, json, sys
ms = json.load(open(sys.argv[1]))["matrices"]
info = {e["model_id"]: e for e in json.load(open(sys.argv[2]))}
m = ms["input_output"]["l1"]
ids = m["models"]
names = [k + "/" + x for k in ms for x in ms[k]]
lm = [i for i, x in enumerate(ids) if info[x]["family"] == "language models"]
assert len(lm) >= 8, lm
def row(screen, label):
    for line in open(screen):
        if line.startswith(label + " "):
            return line[len(label):].split()
    raise AssertionError("%s: no row %r" % (screen, label))
vals = [m["values"][i][j] for i, j in itertools.combinations(lm, 2)]
r = row(sys.argv[3], "language models")
assert r[:3] == [str(len(vals)), "0", "%.6g" % (sum(vals) / len(vals))], r
assert r[4:6] == ["%.6g" % min(vals), "%.6g" % max(vals)], r
ty = lambda i: info[ids[i]]["model_type"]
pairs = {}
for i, j in itertools.combinations(lm, 2):
    if ty(i) != ty(j):
        pairs.setdefault("-".join(sorted((ty(i), ty(j)))), []).append(m["values"][i][j])
for k, v in pairs.items():
    r = row(sys.argv[4], k)
    assert r[:3] == [str(len(v)), "0", "%.6g" % (sum(v) / len(v))], (k, r)
assert open(sys.argv[5]).read().count('%d models matching "language"' % len(lm)) == 1
assert all(m["values"][i][j] is None and u["reason"] == "the method does not apply to a model of the pair"
           for u in m["undefined"] for i, j in [(u["i"], u["j"])]) and \
    len(m["undefined"]) == len(ids) * (len(ids) + 1) // 2 - len(lm) * (len(lm) + 1) // 2
h = open(sys.argv[6]).read().split("\n")
assert h[0].split("|")[2].split()[0:2] == ["input_output/l1",
    "(%d/%d)" % (names.index("input_output/l1") + 1, len(names))], h[0]
assert "l1 = null (the method does not apply" in h[-4] and "block: every cell" in h[-4], h[-4]
PY
ok "the language models: family and type-pair rows, filter, nulls"

# every view at odd sizes, through every key: no crash, the last screen
# has the size asked for
all='jjkl<Enter>G<PgUp>g<Esc>2+++---jjjllllo<PgDn><End>carar0-----m/face<Enter>n?<PgDn><Esc>3fff<Enter><Enter><Esc>sSs<Esc>4ffff<Enter>h<Esc>1<End><Enter>jjjjjj<Enter><Esc>h<C-d><C-u>Mj<Enter>|face<Backspace><Enter>N<WheelDown><WheelUp>M<Esc>p4|x<Esc>5><<>jc<Enter><Esc>Q'
for size in 20x6 21x7 33x9 80x24 203x61; do
	NO_COLOR=1 tui --size "$size" --screen "$all" > "$T/s" || fail "size $size: exit $?"
	tui --size "$size" --screen "$all" > "$T/s" || fail "size $size (colour): exit $?"
	[ "$(wc -l < "$T/s")" -eq "${size#*x}" ] || fail "size $size: $(wc -l < "$T/s") rows"
done
ok "every view at 20x6 .. 203x61"

# the identify view (i on the first model) at the smallest and a large size
for size in 20x6 203x61; do
	NO_COLOR=1 tui --size "$size" --screen 'ij<Enter>G<PgUp>/x<Enter><Esc>' > "$T/s" ||
		fail "identify at $size: exit $?"
	[ "$(wc -l < "$T/s")" -eq "${size#*x}" ] || fail "identify at $size: $(wc -l < "$T/s") rows"
done
ok "the identify view at 20x6 and 203x61"

# --identify: a model file against the demo registry opens on the view;
# a missing file is one error line naming it, exit 1
model_a "$T/a.safetensors"
"$MP_BIN" tui --identify "$T/a.safetensors" --against "$demo/registry" \
	--screen '' > "$T/id" || fail "tui --identify: exit $?"
sed -n 1p "$T/id" | grep -q '^ modelprint | identify |' &&
	sed -n 2p "$T/id" | grep -qx 'Unknown  a.safetensors: 2 tensors, 6 parameters' &&
	grep -q '^Verdict: ' "$T/id" || fail "tui --identify: $(head -3 "$T/id")"
ok "tui --identify FILE --against REGISTRY"
rc=0
"$MP_BIN" tui --identify "$T/nope.safetensors" --against "$demo/registry" \
	--screen '' > "$T/id" 2> "$T/id.err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l < "$T/id.err")" -eq 1 ] &&
	grep -q "nope.safetensors" "$T/id.err" && [ ! -s "$T/id" ] ||
	fail "tui --identify MISSING: exit $rc, $(cat "$T/id.err")"
rc=0
"$MP_BIN" tui --registry "$demo/registry" --against "$demo/registry" \
	--screen '' > /dev/null 2> "$T/id.err" || rc=$?
[ "$rc" -eq 2 ] || fail "--registry and --against: exit $rc"
ok "tui --identify: a missing file and a doubled registry are errors"

# --sparsity: the cluster explorer of a 6 x 8 matrix whose masks are the
# rows below (feature 0's nearest: 1, 2, 5, 4, 3 at 1, 2, 6, 7, 8 bits;
# two clusters {1, 2} and {5, 4, 3}), its golden screen after choosing
# feature 0 and 2 clusters, every key at odd sizes, and the errors
Z='\000\000\000\000' data=''
for r in 11110000 11100000 11000000 00001111 00000111 00000011; do
	for b in $(echo "$r" | sed 's/./& /g'); do
		if [ "$b" = 1 ]; then data="$data$F1"; else data="$data$Z"; fi
	done
done
st_write "$T/sp.safetensors" '{"hand":{"dtype":"F32","shape":[6,8],"data_offsets":[0,192]}}' "$data"
g="$MP_SRCDIR/tests/golden/sparsity.txt"
NO_COLOR=1 tui --sparsity "$T/sp.safetensors" --screen 'f0<Enter>K2<Enter>' > "$T/sp.txt" ||
	fail "tui --sparsity: exit $?"
if [ "${MP_GOLDEN_WRITE:-}" = 1 ]; then
	cp "$T/sp.txt" "$g"
elif ! cmp -s "$T/sp.txt" "$g"; then
	fail "sparsity: screen differs from tests/golden/sparsity.txt"
	diff -u "$g" "$T/sp.txt" | head -20
fi
grep -q '^ modelprint | sparsity |' "$T/sp.txt" &&
	grep -q 'Feature 0 (4 non-zeros): 5 nearest$' "$T/sp.txt" &&
	grep -q 'Hamming distance 1\.\.8 (range 7)$' "$T/sp.txt" &&
	grep -q 'Clusters: k-means, k 2, seed 42, 10 restarts$' "$T/sp.txt" ||
	fail "tui --sparsity: $(head -12 "$T/sp.txt")"
ok "tui --sparsity FILE"
sp='j<Enter>]][[f3<Enter>K3<Enter>+-F2<Enter><>>r R7<Enter>a<PgDn><C-d><C-u><PgUp>f<Esc>/hand<Enter>nGg<Enter>?<Esc>Q'
for size in 20x6 21x7 33x9 80x24 203x61; do
	NO_COLOR=1 tui --sparsity "$T/sp.safetensors" --size "$size" --screen "$sp" > "$T/s" ||
		fail "sparsity at $size: exit $?"
	tui --sparsity "$T/sp.safetensors" --size "$size" --screen "$sp" > "$T/s" ||
		fail "sparsity at $size (colour): exit $?"
	[ "$(wc -l < "$T/s")" -eq "${size#*x}" ] || fail "sparsity at $size: $(wc -l < "$T/s") rows"
done
ok "the cluster explorer at 20x6 .. 203x61"
rc=0
tui --sparsity "$T/nope.safetensors" --screen '' > "$T/sp" 2> "$T/sp.err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l < "$T/sp.err")" -eq 1 ] &&
	grep -q "nope.safetensors" "$T/sp.err" && [ ! -s "$T/sp" ] ||
	fail "tui --sparsity MISSING: exit $rc, $(cat "$T/sp.err")"
model_a "$T/a.safetensors"
rc=0
tui --sparsity "$T/a.safetensors" --identify "$T/a.safetensors" --screen '' \
	> /dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--sparsity and --identify: exit $rc"
ok "tui --sparsity: a missing file is an error, --identify with it a usage error"

# --sweep: a synthesised sweep (P 7, widths 1..5, no noise), its golden
# screen on the logit matrix with the cursor on (d=4, d=2), every key at
# odd sizes in colour and not, and the errors
"$MP_BIN" sweep synth --p 7 --dims 1..5 --seed 3 --out "$T/sw" > /dev/null ||
	fail "sweep synth: exit $?"
g="$MP_SRCDIR/tests/golden/sweep.txt"
NO_COLOR=1 tui --sweep "$T/sw" --screen 'jjjlm' > "$T/sw.txt" ||
	fail "tui --sweep: exit $?"
if [ "${MP_GOLDEN_WRITE:-}" = 1 ]; then
	cp "$T/sw.txt" "$g"
elif ! cmp -s "$T/sw.txt" "$g"; then
	fail "sweep: screen differs from tests/golden/sweep.txt"
	diff -u "$g" "$T/sw.txt" | head -20
fi
grep -q '^ modelprint | sweep |' "$T/sw.txt" &&
	grep -q '^logit cosine ' "$T/sw.txt" &&
	grep -q '^d        1  2  3  4  5' "$T/sw.txt" &&
	grep -q 'logit(d=4, d=2) = ' "$T/sw.txt" ||
	fail "tui --sweep: $(head -12 "$T/sw.txt")"
ok "tui --sweep DIR"
sw='jjjGgllllhhmmmpp<Tab><PgDn><PgDn><PgUp>/x<Enter>?<Esc>kkkkkhhhhh'
for size in 20x6 21x7 33x9 80x24 203x61; do
	NO_COLOR=1 tui --sweep "$T/sw/manifest.json" --size "$size" --screen "$sw" > "$T/s" ||
		fail "sweep at $size: exit $?"
	tui --sweep "$T/sw/manifest.json" --size "$size" --screen "$sw" > "$T/s" ||
		fail "sweep at $size (colour): exit $?"
	[ "$(wc -l < "$T/s")" -eq "${size#*x}" ] || fail "sweep at $size: $(wc -l < "$T/s") rows"
done
ok "the sweep view at 20x6 .. 203x61"
rc=0
tui --sweep "$T/nope.json" --screen "" > "$T/swout" 2> "$T/sw.err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l < "$T/sw.err")" -eq 1 ] &&
	grep -q "nope.json" "$T/sw.err" && [ ! -s "$T/swout" ] ||
	fail "tui --sweep MISSING: exit $rc, $(cat "$T/sw.err")"
rc=0
tui --sweep "$T/sw" --sparsity "$T/a.safetensors" --screen '' \
	> /dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--sweep and --sparsity: exit $rc"
ok "tui --sweep: a missing manifest is an error, --sparsity with it a usage error"

# every key of the table is in the man page's KEYS section and back
sed -n '/^\.SH KEYS/,/^\.SH [^K]/p' "$MP_SRCDIR/man/modelprint-tui.1" |
	sed 's/\\-/-/g' | grep -o '\\fB[^\\]*\\fR' | sed 's/\\fB//; s/\\fR//' |
	sort -u > "$T/man-keys"
"$MP_BIN" tui --keys | cut -f1 | sort -u > "$T/table-keys"
[ -s "$T/table-keys" ] || fail "tui --keys printed nothing"
missing=$(comm -23 "$T/table-keys" "$T/man-keys" | tr '\n' ' ')
extra=$(comm -13 "$T/table-keys" "$T/man-keys" | tr '\n' ' ')
[ -z "$missing" ] || fail "keys missing from man/modelprint-tui.1: $missing"
[ -z "$extra" ] || fail "keys in man/modelprint-tui.1 but not in the table: $extra"
ok "man page lists every key ($(wc -l < "$T/table-keys") keys)"

# no terminal: a clear error for tui, the usage for no arguments
rc=0; err=$("$MP_BIN" tui </dev/null 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] || fail "tui without a terminal: exit $rc"
echo "$err" | grep -q "needs a terminal" || fail "tui without a terminal: $err"
"$MP_BIN" </dev/null | grep -q '^usage: modelprint' || fail "no arguments without a terminal"
rc=0; tui --screen '<Bogus>' 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "unknown key in --screen: exit $rc"
rc=0; tui --size 3x3 --screen q 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "bad --size: exit $rc"
rc=0; err=$("$MP_BIN" tui --results "$T/none.json" --screen q 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q none.json || fail "missing results: $rc $err"
echo '{"matrices": {"tensors": {"cosine": {"models": ["a"], "values": [[1, 2]]}}}}' > "$T/bad.json"
rc=0; err=$("$MP_BIN" tui --results "$T/bad.json" --screen q 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q bad.json || fail "bad results: $rc $err"
"$MP_BIN" tui --help | grep -q '^usage: modelprint tui' || fail "tui --help"
ok "errors and no terminal"
finish
