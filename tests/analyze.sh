#!/bin/sh
# tests/analyze.sh — `modelprint analyze` and `modelprint correlate` end to
# end: a hand-computed 7-model matrix, the demo results checked against
# counts made here with awk from model-info.json, and hostile input.
. "$MP_SRCDIR/tests/lib.sh"
D="$MP_SRCDIR/data/demo"
RES="$D/results/similarity_matrices.json"
INFO="$D/model-info.json"

expect_error() { # label exit-status expected-phrase args...
	label=$1 want=$2 phrase=$3; shift 3
	err=$("$MP_BIN" "$@" 2>&1 >/dev/null) && { fail "$label: exit 0"; return; }
	st=$?
	[ "$st" -eq "$want" ] || fail "$label: exit $st, wanted $want"
	echo "$err" | grep -qF -- "$phrase" || fail "$label: message '$err'"
}

# --- a matrix worked out by hand (the one of tests/check_groups.c) -------
# a b c: family F (Base, Lite, Full); d e: G (Base, Lite); h: H alone;
# x is not in the model info, z not in the results; b-c is null.
cat > "$T/m.json" <<'JSON'
{"matrices": {"tensors": {"l1": {"models": ["a","b","c","d","e","h","x"],
 "higher_is_more_alike": true, "values": [
 [1,    0.9,  0.8,  0.5,  0.4,  0.35, 0.05],
 [0.9,  1,    null, 0.3,  0.2,  0.45, 0.06],
 [0.8,  null, 1,    0.1,  0.6,  0.55, 0.07],
 [0.5,  0.3,  0.1,  1,    0.6,  0.25, 0.08],
 [0.4,  0.2,  0.6,  0.6,  1,    0.15, 0.09],
 [0.35, 0.45, 0.55, 0.25, 0.15, 1,    0.95],
 [0.05, 0.06, 0.07, 0.08, 0.09, 0.95, 1]],
 "undefined": [{"i": 1, "j": 2, "reason": "no tensors in common"}]}},
 "spectral": {"js": {"models": ["a","b"], "higher_is_more_alike": false,
 "values": [[0, 0.2], [0.2, 0]]}}}}
JSON
cat > "$T/info.json" <<'JSON'
[{"model_id": "z", "family": "G", "model_type": "Full"},
 {"model_id": "a", "family": "F", "model_type": "Base", "display_name": "alpha"},
 {"model_id": "b", "family": "F", "model_type": "Lite"},
 {"model_id": "c", "family": "F", "model_type": "Full"},
 {"model_id": "d", "family": "G", "model_type": "Base"},
 {"model_id": "e", "family": "G", "model_type": "Lite"},
 {"model_id": "h", "family": "H", "model_type": "Base"}]
JSON
out=$("$MP_BIN" analyze --results-file "$T/m.json" --model-info "$T/info.json" \
	--output-dir "$T/o") || fail "analyze exited $?"
# F {0.9, 0.8}: var 0.005; F vs G {0.1..0.6}: mean 0.35, var 0.175/5;
# Base-Lite {0.9 (a-b), 0.6 (d-e)}: var 0.045; Full-Lite only the null
row() { echo "$out" | grep -Eq "^$1 +$2\$" || fail "row '$1': $out"; }
row "F" "0.8 +0.9 +0.85 +0.005 +2 +1"
row "G" "0.6 +0.6 +0.6 +0 +1 +0"
row "F vs G" "0.1 +0.6 +0.35 +0.035 +6 +0"
row "F vs H" "0.35 +0.55 +0.45 +0.01 +3 +0"
row "Base-Lite" "0.6 +0.9 +0.75 +0.045 +2 +0"
row "Full-Lite" "- +- +- +- +0 +1"
echo "$out" | grep -q "^H " && fail "H has one model: no intrafamily row"
echo "$out" | grep -q "in the results but not in the model info (1): x" || fail "x not reported"
echo "$out" | grep -q "in the model info but not in the results (1): z" || fail "z not reported"
echo "$out" | grep -q "^method tensors, metric l1 (higher" || fail "default l1: $out"
# the most alike interfamily group comes first
echo "$out" | grep -A3 "^INTERFAMILY" | tail -1 | grep -q "^F vs H " || fail "inter order"
for f in analysis.json summary.txt pairs_intrafamily.txt pairs_interfamily.txt pairs_type_pairs.txt; do
	[ -s "$T/o/$f" ] || fail "$f not written"
done
# JSON members are written "key":<tab>value
S='[[:space:]]*'
grep -q "\"missing_in_model_info\":$S\[\"x\"\]" "$T/o/analysis.json" || fail "json missing x"
grep -q "\"missing_in_results\":$S\[\"z\"\]" "$T/o/analysis.json" || fail "json missing z"
sed -n 's/.*"variance":[[:space:]]*\([-0-9.e]*\),/\1/p' "$T/o/analysis.json" |
	awk '{ d = $1 - 0.035; if (d < 1e-12 && d > -1e-12) hit = 1 } END { exit !hit }' ||
	fail "json variance 0.035"
grep -qx 'alpha (F/Base) <-> b (F/Lite): 0.9' "$T/o/pairs_intrafamily.txt" || fail "pair line"
grep -qx 'b (F/Lite) <-> c (F/Full): null (no tensors in common)' "$T/o/pairs_intrafamily.txt" ||
	fail "null pair line"
sed -n '/^=== F vs G/,/^$/p' "$T/o/pairs_interfamily.txt" | sed -n 2p |
	grep -qx 'c (F/Full) <-> e (G/Lite): 0.6' || fail "F vs G most alike first"
"$MP_BIN" analyze --results-file "$T/m.json" --model-info "$T/info.json" --json > "$T/j.json" 2>"$T/j.err" ||
	fail "--json"
grep -q "\"label\":$S\"F vs G\"" "$T/j.json" || fail "--json content"
grep -q "warning: 1 models" "$T/j.err" || fail "--json warns about missing ids"
head -c1 "$T/j.json" | grep -q '{' || fail "--json prints only JSON"
ok "hand-computed groups, reports and missing ids"

# how the values were obtained: the file without "estimate" says it is
# unknown; a sketch estimate names its size on the console, in summary.txt,
# the pair reports, analysis.json and the dashboard
unk="l1: unknown whether exact or a sketch estimate"
echo "$out" | grep -qxF "$unk" || fail "unknown estimate line: $out"
grep -qxF "$unk" "$T/o/summary.txt" || fail "unknown estimate in summary.txt"
flat() { tr -d ' \t\n' < "$1"; } # a JSON file on one line, no white space
flat "$T/o/analysis.json" | grep -qF '"estimate":{"kind":"unknown"}' ||
	fail "unknown estimate in analysis.json"
sed 's/"higher_is_more_alike": true, "values"/"higher_is_more_alike": true,\
 "estimate": {"kind": "sketch", "values": 1024}, "values"/' "$T/m.json" > "$T/ms.json"
out=$("$MP_BIN" analyze --results-file "$T/ms.json" --model-info "$T/info.json" \
	--output-dir "$T/os") || fail "analyze of a sketch estimate exited $?"
sk="l1: sketch estimate from 1024 values per tensor"
echo "$out" | sed -n 2p | grep -qxF "$sk" || fail "sketch estimate line: $out"
for f in summary.txt pairs_intrafamily.txt pairs_interfamily.txt pairs_type_pairs.txt; do
	grep -qxF "$sk" "$T/os/$f" || fail "sketch estimate line in $f"
done
flat "$T/os/analysis.json" | grep -qF '"estimate":{"kind":"sketch","values":1024}' ||
	fail "sketch estimate in analysis.json"
grep -qF "\"estimate_text\":	\"$sk\"" "$T/os/analysis.json" || fail "estimate_text in analysis.json"
grep -qF "<p class=\"sub\">$sk</p>" "$T/os/dashboard.html" || fail "sketch estimate in dashboard.html"
ok "analyze says whether values are sketch estimates"

# a divergence: least divergent first
cat > "$T/js.json" <<'JSON'
{"matrices": {"spectral": {"js": {"models": ["a","b","c","d","e"],
 "higher_is_more_alike": false, "values": [
 [0,   0.1, 0.3, 0.5, 0.6],
 [0.1, 0,   0.2, 0.7, 0.4],
 [0.3, 0.2, 0,   0.8, 0.9],
 [0.5, 0.7, 0.8, 0,   0.05],
 [0.6, 0.4, 0.9, 0.05, 0]]}}}}
JSON
out=$("$MP_BIN" analyze --results-file "$T/js.json" --model-info "$T/info.json") || fail "js analyze"
echo "$out" | grep -q "^INTRAFAMILY DIVERGENCE (sorted by mean divergence, least divergent first)" ||
	fail "divergence header: $out"
# F {0.1, 0.3, 0.2}: mean 0.2; G {0.05}: first
echo "$out" | grep -A3 "^INTRAFAMILY" | tail -1 | grep -Eq "^G +0\.05 " || fail "G first: $out"
row "F" "0.1 +0.3 +0.2 +0.01 +3 +0"
ok "a divergence is sorted ascending"

# scores close together: F {0.999, 0.995, 0.997}: mean 0.997, sample
# variance (0.002^2 + 0.002^2 + 0) / 2 = 4e-06, not "0.0000"; pair values
# of 6 significant digits: 0.9876543 is 0.987654, 0.00012345678 0.000123457
cat > "$T/tiny.json" <<'JSON'
{"matrices": {"tensors": {"l1": {"models": ["a","b","c","d"],
 "higher_is_more_alike": true, "values": [
 [1, 0.999, 0.995, 0.9876543],
 [0.999, 1, 0.997, 0.00012345678],
 [0.995, 0.997, 1, -0.5],
 [0.9876543, 0.00012345678, -0.5, 1]]}}}}
JSON
printf '[{"model_id":"a","family":"F","model_type":"A"},{"model_id":"b","family":"F","model_type":"B"},{"model_id":"c","family":"F","model_type":"C"},{"model_id":"d","family":"G","model_type":"A"}]' > "$T/tinfo.json"
out=$("$MP_BIN" analyze --results-file "$T/tiny.json" --model-info "$T/tinfo.json" \
	--output-dir "$T/tiny") || fail "tiny analyze exited $?"
row "F" "0.995 +0.999 +0.997 +4e-06 +3 +0"
grep -q "^=== F (3 pairs, 0 null): min 0.995, max 0.999, mean 0.997, variance 4e-06, " \
	"$T/tiny/pairs_intrafamily.txt" || fail "F section: $(cat "$T/tiny/pairs_intrafamily.txt")"
for l in 'a (F/A) <-> d (G/A): 0.987654' 'b (F/B) <-> d (G/A): 0.000123457' \
	'c (F/C) <-> d (G/A): -0.5'; do
	grep -qxF "$l" "$T/tiny/pairs_interfamily.txt" || fail "pair line '$l': $(cat "$T/tiny/pairs_interfamily.txt")"
done
# every pair line as printf's %.6g writes the value (the reports format
# the usual ones themselves): 40 models, values of every magnitude
awk 'BEGIN { srand(7); n = 40
	for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) {
		k = (i * n + j) % 5; r = rand()
		v[i, j] = k == 0 ? r : k == 1 ? -r : k == 2 ? 0.1 + r * 1e-6 : k == 3 ? 1 - r * 1e-6 : r * 1e-3
		printf "%s m%d m%d %.17g\n", "v", i, j, v[i, j] > "/dev/stderr" }
	printf "{\"matrices\": {\"t\": {\"l1\": {\"models\": ["
	for (i = 0; i < n; i++) printf "%s\"m%d\"", i ? "," : "", i
	printf "], \"higher_is_more_alike\": true, \"values\": ["
	for (i = 0; i < n; i++) { printf "%s[", i ? "," : ""
		for (j = 0; j < n; j++) printf "%s%.17g", j ? "," : "", i == j ? 1 : i < j ? v[i, j] : v[j, i]
		printf "]" }
	print "]}}}}" }' > "$T/many.json" 2> "$T/many.txt"
awk 'BEGIN { printf "["; for (i = 0; i < 40; i++) printf "%s{\"model_id\":\"m%d\",\"family\":\"F\",\"model_type\":\"T\"}", i ? "," : "", i; print "]" }' > "$T/minfo.json"
"$MP_BIN" analyze --results-file "$T/many.json" --model-info "$T/minfo.json" \
	--output-dir "$T/many" >/dev/null || fail "many analyze exited $?"
awk 'FNR == NR { want[$2 " " $3] = sprintf("%.6g", $4); next }
	/ <-> / { k = $1 " " $4; sub(/^.*: /, ""); n++
		if (want[k] != $0) { print k ": " $0 " != " want[k]; bad++ } }
	END { exit bad || n != 780 }' "$T/many.txt" "$T/many/pairs_intrafamily.txt" ||
	fail "pair values differ from %.6g"
ok "scores with 6 significant digits"

# --- the demo results, checked against counts made here ----------------
out=$("$MP_BIN" analyze --results-file "$RES" --model-info "$INFO" --output-dir "$T/demo") ||
	fail "demo analyze exited $?"
# families and types of model-info.json (one entry per line) by awk
awk -F'"' '/"model_id"/ { for (i = 1; i < NF; i++) { if ($i == "family") f = $(i+2); if ($i == "model_type") t = $(i+2) }
	n[f]++; ty[f, n[f]] = t; all++ }
	END { fams = 0; tp = 0; for (f in n) { if (n[f] >= 2) fams++
		for (i = 1; i <= n[f]; i++) for (j = i + 1; j <= n[f]; j++) if (ty[f, i] != ty[f, j]) tp++ }
		print fams, all * (all - 1) / 2, tp }' "$INFO" > "$T/counts"
read -r fams pairs tp < "$T/counts"
# the models of model-info.json, and those of the family "language models"
# (the only ones input_output applies to, the default method's matrix):
# every other pair is null because the method does not apply
nmod=$(grep -c '"model_id"' "$INFO")
nlm=$(grep -c '"family": "language models"' "$INFO")
[ "$nlm" -ge 8 ] || fail "model-info.json: $nlm language models"
nulls=$((pairs - nlm * (nlm - 1) / 2))
[ "$fams" -gt 5 ] || fail "awk found $fams families with two models"
intra=$(grep -c '^=== ' "$T/demo/pairs_intrafamily.txt")
[ "$intra" -eq "$fams" ] || fail "$intra intrafamily groups, $fams families with >= 2 models"
lines=$(cat "$T/demo/pairs_intrafamily.txt" "$T/demo/pairs_interfamily.txt" | grep -c ' <-> ')
[ "$lines" -eq "$pairs" ] || fail "$lines pair lines, n(n-1)/2 = $pairs"
counted=$(cat "$T/demo/pairs_intrafamily.txt" "$T/demo/pairs_interfamily.txt" |
	sed -n 's/^=== .* (\([0-9]*\) pairs, \([0-9]*\) null).*/\1 \2/p' | awk '{ s += $1 + $2 } END { print s }')
[ "$counted" -eq "$pairs" ] || fail "group counts add to $counted, not $pairs"
tplines=$(grep -c ' <-> ' "$T/demo/pairs_type_pairs.txt")
[ "$tplines" -eq "$tp" ] || fail "$tplines type-pair lines, awk counts $tp"
echo "$out" | sed -n 1p | grep -qx "method input_output, metric l1 (higher is more alike)" ||
	fail "demo default matrix: $(echo "$out" | sed -n 1p)"
echo "$out" | grep -qx "$nmod models, $pairs pairs, $nulls with a null score (left out of every statistic; $nulls the method does not apply to a model of the pair)" ||
	fail "demo header: $(echo "$out" | sed -n 3p)"
# the language models' row: all their pairs, none null, the f32 and f16
# conversions of the HF parent as alike as it (max 1), stories260K (another
# model) far (min below 0.6)
echo "$out" | sed -n '/^INTRAFAMILY/,/^$/p' | awk -v n=$((nlm * (nlm - 1) / 2)) '
	/^language models / { hit = 1; if ($3 >= 0.6 || $4 != 1 || $(NF-1) != n || $NF != 0) bad = 1 }
	END { exit !hit || bad }' || fail "language models row: $(echo "$out" | grep '^language models ')"
# every intrafamily line joins one family, every interfamily line two
# (families may hold spaces: "language models")
fam_of() { sed -n 's/^.* (\([^()]*\)\/[^()]*) <-> .* (\([^()]*\)\/[^()]*): .*$/\1|\2/p' "$1"; }
fam_of "$T/demo/pairs_intrafamily.txt" | awk -F'|' '$1 != $2 { bad++ } END { exit bad > 0 }' ||
	fail "an intrafamily line joins two families"
fam_of "$T/demo/pairs_intrafamily.txt" | grep -q '^language models|language models$' ||
	fail "no intrafamily line of the language models"
fam_of "$T/demo/pairs_interfamily.txt" | awk -F'|' '$1 == $2 { bad++ } END { exit bad > 0 }' ||
	fail "an interfamily line joins one family"
# inside each section the scores never increase (l1: most alike first)
awk '/^===/ { prev = 2; next } / <-> .*: [-0-9.]+$/ { v = $NF + 0; if (v > prev) bad++; prev = v }
	END { exit bad > 0 }' "$T/demo/pairs_interfamily.txt" || fail "interfamily pairs not sorted"
# the table is sorted by mean, most alike first
echo "$out" | sed -n '/^INTERFAMILY/,/^$/p' | awk 'NR > 3 && NF >= 7 && $(NF-3) != "-" { m = $(NF-3); if (NR > 4 && m > prev) bad++; prev = m }
	END { exit bad > 0 }' || fail "interfamily table not sorted by mean"
# the registry gives the same families
"$MP_BIN" analyze --results-file "$RES" --registry "$D/registry" > "$T/reg.txt" || fail "--registry"
echo "$out" | sed -n '/^INTRAFAMILY/,/^$/p' > "$T/a1"
sed -n '/^INTRAFAMILY/,/^$/p' "$T/reg.txt" > "$T/a2"
cmp -s "$T/a1" "$T/a2" || fail "--registry and --model-info differ"
out=$("$MP_BIN" analyze --results-file "$RES" --model-info "$INFO" --method spectral --metric js) ||
	fail "demo js"
echo "$out" | grep -q "^INTERFAMILY DIVERGENCE" || fail "demo js header"
# --metric alone finds the method that has it
"$MP_BIN" analyze --results-file "$RES" --model-info "$INFO" --metric js | head -1 |
	grep -q "^method spectral, metric js (lower is more alike)" || fail "--metric js alone"
ok "demo results: groups and pair counts match awk's counts"

# models missing on either side of the demo
sed 's/"model_id": "48", "family": "TinyYolo"/"model_id": "999", "family": "X"/' "$INFO" > "$T/info2.json"
out=$("$MP_BIN" analyze --results-file "$RES" --model-info "$T/info2.json") || fail "info2"
echo "$out" | grep -q "in the results but not in the model info (1): 48" || fail "48 missing: $out"
echo "$out" | grep -q "in the model info but not in the results (1): 999" || fail "999 missing"
ok "missing ids reported"

# --- correlate: r worked out in tests/check_correlate.c -----------------
cat > "$T/c.json" <<'JSON'
{"matrices": {"tensors": {
 "A": {"models": ["p","q","r","s"], "higher_is_more_alike": true,
  "values": [[1,1,2,3],[1,1,4,5],[2,4,1,6],[3,5,6,1]]},
 "B": {"models": ["p","q","r","s"], "higher_is_more_alike": true,
  "values": [[1,2,1,4],[2,1,3,6],[1,3,1,5],[4,6,5,1]]},
 "C": {"models": ["s","r","q","p"], "higher_is_more_alike": false,
  "values": [[0,1,2,4],[1,0,3,5],[2,3,0,6],[4,5,6,0]]}}}}
JSON
# r(A,B) = 14.5/17.5 = 0.828571; C = 7 - A negated: r(A,C) = 1
out=$("$MP_BIN" correlate --results-file "$T/c.json" --metrics A,B,C --output-dir "$T/co") ||
	fail "correlate exited $?"
echo "$out" | grep -Eq '^A +1 +0\.828571 +1$' || fail "r row A: $out"
echo "$out" | grep -Eq '^C +1 +0\.828571 +1$' || fail "r row C: $out"
# mean 3.5, population std sqrt(17.5/6) = 1.70783 (6 digits)
echo "$out" | grep -Eq '^C +3\.5 +1\.70783 +1 +6 +divergence$' || fail "summary C: $out"
grep -q "\"pairs_used\":${S}6," "$T/co/correlation.json" || fail "correlation.json"
"$MP_BIN" correlate --results-file "$T/c.json" --metrics A,B --json | grep -q "\"pairs_excluded\":${S}0," ||
	fail "correlate --json"
ok "correlate: hand-computed r and summaries"

# correlate says per metric how its values were obtained
sed 's/"A": {/"A": {"estimate": {"kind": "sketch", "values": 64},/; s/"B": {/"B": {"estimate": {"kind": "exact"},/' \
	"$T/c.json" > "$T/ce.json"
out=$("$MP_BIN" correlate --results-file "$T/ce.json" --metrics A,B,C --output-dir "$T/ce") ||
	fail "correlate with estimates exited $?"
for l in "A: sketch estimate from 64 values per tensor" "B: exact values" \
	"C: unknown whether exact or a sketch estimate"; do
	echo "$out" | grep -qxF "$l" || fail "correlate line '$l': $out"
	grep -qF "\"estimate_text\":	\"$l\"" "$T/ce/correlation.json" || fail "correlation.json: $l"
	grep -qF "<p class=\"sub\">$l</p>" "$T/ce/correlation.html" || fail "correlation.html: $l"
done
flat "$T/ce/correlation.json" | grep -qF '"estimate":{"kind":"sketch","values":64}' ||
	fail "correlation.json estimate object"
ok "correlate says whether values are sketch estimates"

# --- bad input -----------------------------------------------------------
expect_error "no results file" 2 "--results-file FILE is required" analyze --model-info "$INFO"
expect_error "both infos" 2 "give one of" analyze --results-file "$RES" --model-info "$INFO" --registry "$D/registry"
expect_error "no metrics" 2 "--metrics" correlate --results-file "$RES"
expect_error "one metric" 2 "at least two" correlate --results-file "$RES" --metrics l1
expect_error "missing file" 1 "$T/nope.json" analyze --results-file "$T/nope.json" --model-info "$INFO"
expect_error "unknown method" 1 "no method 'nope' (the file has: tensors, spectral, weight, input_output)" \
	analyze --results-file "$RES" --model-info "$INFO" --method nope
expect_error "unknown metric" 1 "method 'spectral' has no metric 'pearson' (it has: cosine, l1, js)" \
	analyze --results-file "$RES" --model-info "$INFO" --method spectral --metric pearson
# a matrix of no models is read (no copy from a NULL id list) and analysed
printf '{"matrices":{"tensors":{"l1":{"models":[],"higher_is_more_alike":true,"values":[]}}}}' > "$T/empty.json"
"$MP_BIN" analyze --results-file "$T/empty.json" --model-info "$INFO" | grep -q '^0 models, 0 pairs' ||
	fail "empty matrix"
# --json warns on stderr only about the side that lacks models
err=$("$MP_BIN" analyze --results-file "$T/empty.json" --model-info "$INFO" --json 2>&1 >/dev/null)
[ "$err" = "modelprint: warning: $nmod models of the model info are not in the results (see missing_in_results)" ] ||
	fail "missing-models warning: $err"
expect_error "correlate names need a page" 2 "need --output-dir" \
	correlate --results-file "$RES" --metrics l1,cosine --model-info "$INFO"
# correlation.html names the models by their display names only when told them
"$MP_BIN" correlate --results-file "$RES" --metrics l1,cosine --output-dir "$T/cn" >/dev/null ||
	fail "correlate without names"
grep -q 'blazeface-front' "$T/cn/correlation.html" && fail "a display name without --model-info"
"$MP_BIN" correlate --results-file "$RES" --metrics l1,cosine --model-info "$INFO" \
	--output-dir "$T/cn" >/dev/null || fail "correlate --model-info"
grep -q 'blazeface-front' "$T/cn/correlation.html" || fail "correlate --model-info: names missing"
expect_error "correlate unknown metric" 1 "has no metric 'nope'" \
	correlate --results-file "$RES" --metrics l1,nope
bad_matrix() { # label phrase values
	printf '{"matrices":{"tensors":{"l1":{"models":["1","2"],"values":%s}}}}' "$3" > "$T/bad.json"
	expect_error "$1" 1 "$T/bad.json: " analyze --results-file "$T/bad.json" --model-info "$INFO"
	expect_error "$1" 1 "$2" analyze --results-file "$T/bad.json" --model-info "$INFO"
}
bad_matrix "non-square" "must be square" '[[1,0.5]]'
bad_matrix "ragged" "row 1 does not have 2 values" '[[1,0.5],[0.5]]'
bad_matrix "asymmetric" "must be symmetric" '[[1,0.5],[0.6,1]]'
bad_matrix "out of range" "is out of range" '[[1,1e400],[1e400,1]]'
bad_matrix "string" "neither a number nor null" '[[1,"0.5"],["0.5",1]]'
bad_matrix "nested" "neither a number nor null" '[[1,[0.5]],[[0.5],1]]'
bad_matrix "NaN" "invalid JSON" '[[1,NaN],[NaN,1]]'
bad_matrix "truncated" "invalid JSON" '[[1,0.5],[0.5,1]'
printf '{"model_id": "1"}' > "$T/obj.json"
expect_error "info not an array" 1 "$T/obj.json: a model-info file is a JSON array" \
	analyze --results-file "$RES" --model-info "$T/obj.json"
printf '[{"model_id": "1",' > "$T/broken.json"
expect_error "info broken" 1 "$T/broken.json: invalid JSON" \
	analyze --results-file "$RES" --model-info "$T/broken.json"
printf '[{"model_id": 1}]' > "$T/num.json"
expect_error "numeric id" 1 "entry 0" analyze --results-file "$RES" --model-info "$T/num.json"
: > "$T/empty.json"
expect_error "empty results" 1 "$T/empty.json: invalid JSON" analyze --results-file "$T/empty.json" --model-info "$INFO"
ok "bad input: clear errors and exit codes"

# --- clusters at the cut (the example of tests/check_cluster.c) ----------
# A B C D on a line at 0 1 4 10, similarity 10 - distance, A-D null (taken
# as the least alike value, 1). Merges: A,B at 9; AB,C at (6+7)/2 = 6.5;
# ABC,D at (1+1+4)/3 = 2. Median cut 6.5: [D] and [C A B] (f1 x2, f2 x1:
# purity 2/3, B disagrees). --cut 7: [D] [C] [A B] (tie to f1, purity 0.5).
cat > "$T/cl.json" <<'JSON'
{"matrices": {"tensors": {"cosine": {"models": ["A","B","C","D"],
 "higher_is_more_alike": true, "values": [
 [10, 9, 6, null], [9, 10, 7, 1], [6, 7, 10, 4], [null, 1, 4, 10]],
 "undefined": [{"i": 0, "j": 3, "reason": "no tensors in common"}]}}}}
JSON
cat > "$T/clinfo.json" <<'JSON'
[{"model_id": "A", "family": "f1", "model_type": "t1"},
 {"model_id": "B", "family": "f2", "model_type": "t1"},
 {"model_id": "C", "family": "f1", "model_type": "t2"},
 {"model_id": "D", "family": "f2", "model_type": "t3"}]
JSON
clusters() { # cut-args... -> one line per cluster: members|disagreeing|purity
	"$MP_BIN" analyze --results-file "$T/cl.json" --model-info "$T/clinfo.json" \
		--json "$@" | python3 -c '
import json, sys
r = json.load(sys.stdin)
c = r["cluster_cut"]
print("cut %g %s %d" % (c["cut"], c["rule"], c["count"]))
for k in r["clusters"]:
    print(" ".join(k["members"]), "|", " ".join(k["disagreeing"]), "|",
          "%.6f" % k["purity"], k["majority_family"],
          ",".join("%s=%d" % kv for kv in sorted(k["families"].items())))'
}
got=$(clusters) || fail "clusters: exit $?"
want="cut 6.5 median merge height 2
D |  | 1.000000 f2 f2=1
C A B | B | 0.666667 f1 f1=2,f2=1"
[ "$got" = "$want" ] || fail "default cut: $got"
got=$(clusters --cut 7) || fail "clusters --cut 7: exit $?"
want="cut 7 given 3
D |  | 1.000000 f2 f2=1
C |  | 1.000000 f1 f1=1
A B | B | 0.500000 f1 f1=1,f2=1"
[ "$got" = "$want" ] || fail "--cut 7: $got"
expect_error "--cut x" 2 "--cut wants a number" analyze --results-file "$T/cl.json" \
	--model-info "$T/clinfo.json" --json --cut x
"$MP_BIN" analyze --results-file "$T/cl.json" --model-info "$T/clinfo.json" \
	--output-dir "$T/clo" >/dev/null || fail "clusters: --output-dir"
grep -q 'cut:6.5,' "$T/clo/dashboard.html" || fail "dashboard: no cut"
grep -q 'clusters:\[' "$T/clo/dashboard.html" || fail "dashboard: no clusters"
ok "clusters at the cut"

# --- the binary similarity-matrix form (modelprint-files(5)) ------------
# every matrix of the demo results converted to float64 prints what the
# JSON form prints; float32 prints what a JSON of the values rounded to
# float32 by python's struct prints; a file python writes from the man page's layout
# reads the same; correlate takes metrics from several binary files.
python3 - "$RES" "$T" <<'PY' > "$T/mats" || fail "python: listing matrices"
import json, sys
d = json.load(open(sys.argv[1]))["matrices"]
for me in d:
    for mt in d[me]:
        print(me, mt)
PY
while read -r me mt; do
	"$MP_BIN" matrix convert "$RES" "$T/$me.$mt.mpsim" --method "$me" --metric "$mt" >/dev/null ||
		fail "convert $me/$mt"
	a=$("$MP_BIN" analyze --results-file "$RES" --model-info "$INFO" --method "$me" --metric "$mt" --json) ||
		fail "analyze json $me/$mt"
	b=$("$MP_BIN" analyze --results-file "$T/$me.$mt.mpsim" --model-info "$INFO" --json) ||
		fail "analyze binary $me/$mt"
	[ "$a" = "$b" ] || fail "analyze differs on binary $me/$mt"
done < "$T/mats"
[ "$(wc -l < "$T/mats")" -ge 10 ] || fail "few matrices: $(cat "$T/mats")"
a=$("$MP_BIN" analyze --results-file "$RES" --model-info "$INFO" --method spectral --metric js)
b=$("$MP_BIN" analyze --results-file "$T/spectral.js.mpsim" --model-info "$INFO")
[ "$a" = "$b" ] || fail "analyze tables differ on the binary form"
"$MP_BIN" matrix convert "$RES" "$T/f32.mpsim" --method spectral --metric js --float32 >/dev/null ||
	fail "convert --float32"
python3 - "$RES" "$T" <<'PY' || fail "python: float32 and the man page's layout"
import json, math, struct, sys
res, t = sys.argv[1], sys.argv[2]
d = json.load(open(res))
m = d["matrices"]["spectral"]["js"]
m["values"] = [[None if v is None else struct.unpack('<f', struct.pack('<f', v))[0] for v in row]
               for row in m["values"]]
json.dump({"matrices": {"spectral": {"js": m}}}, open(t + "/f32.json", "w"))
# the layout of modelprint-files(5), written here from the JSON
m = d["matrices"]["tensors"]["l1"]
ids = m["models"]; n = len(ids)
def s(x):
    b = x.encode()
    return struct.pack("<I", len(b)) + b
h = b"MPSIM1\0\0" + struct.pack("<IIQQ", 1, 8, n, 0)
e = m.get("estimate", {})
kind = ["unknown", "exact", "sketch", "randomized_svd"].index(e.get("kind", "unknown"))
h += struct.pack("<IIII", 1 if m["higher_is_more_alike"] else 0, kind,
                 e.get("values", 0), 0)
h += s("tensors") + s("l1") + b"".join(s(i) for i in ids)
h += struct.pack("<I", 0) + struct.pack("<Q", 0)
h += b"\0" * (-len(h) % 64)
h = h[:24] + struct.pack("<Q", len(h)) + h[32:]
v = b"".join(struct.pack("<d", math.nan if x is None else x)
             for row in m["values"] for x in row)
open(t + "/py.mpsim", "wb").write(h + v)
PY
a=$("$MP_BIN" analyze --results-file "$T/f32.json" --model-info "$INFO" --json)
b=$("$MP_BIN" analyze --results-file "$T/f32.mpsim" --model-info "$INFO" --json)
[ "$a" = "$b" ] || fail "float32: analyze differs from the JSON rounded to float32"
a=$("$MP_BIN" analyze --results-file "$RES" --model-info "$INFO" --method tensors --metric l1 --json)
b=$("$MP_BIN" analyze --results-file "$T/py.mpsim" --model-info "$INFO" --json)
[ "$a" = "$b" ] || fail "a file written from the man page's layout reads differently"
a=$("$MP_BIN" correlate --results-file "$RES" --method tensors --metrics l1,cosine,pearson)
b=$("$MP_BIN" correlate --results-file "$T/tensors.l1.mpsim" --results-file "$T/tensors.cosine.mpsim" \
	--results-file "$T/tensors.pearson.mpsim" --method tensors --metrics l1,cosine,pearson)
[ "$a" = "$b" ] || fail "correlate differs on the binary form: $b"
expect_error "correlate: metric in no file" 1 "has no metric 'cosine'" correlate \
	--results-file "$T/tensors.l1.mpsim" --metrics l1,cosine
for f in "$MP_SRCDIR"/tests/broken/mpsim-*; do
	err=$("$MP_BIN" analyze --results-file "$f" --model-info "$INFO" 2>&1 >/dev/null) &&
		fail "${f##*/}: accepted"
	[ $? -eq 1 ] || fail "${f##*/}: exit status"
	[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "${f##*/}: $err"
	echo "$err" | grep -qF "$f" || fail "${f##*/}: message does not name it: $err"
done
ok "the binary matrix form: analyze and correlate as on JSON, hostile files"

# --- top-k neighbour files (matrix topk) --------------------------------
# exact from the demo matrix; through the LSH codes of the demo registry
# (the 48 real TF.js models, fingerprinted from the corpus, and the
# language models of ../shared/fixtures) with every
# other model a candidate, recall is 1: the same file byte for byte; the
# listing is checked against python's top 3 of the JSON's cosine rows.
cp -r "$D/registry" "$T/reg"
"$MP_BIN" matrix topk "$T/ex.topk" --k 3 --results-file "$RES" --method tensors --metric cosine >/dev/null ||
	fail "topk exact"
"$MP_BIN" matrix topk "$T/lsh.topk" --k 3 --registry "$T/reg" --candidates $((nmod - 1)) >/dev/null ||
	fail "topk lsh"
cmp -s "$T/ex.topk" "$T/lsh.topk" || fail "LSH top-k with recall 1 differs from the exact one"
"$MP_BIN" analyze --results-file "$T/ex.topk" > "$T/nb.txt" || fail "analyze topk: exit $?"
python3 - "$RES" "$T/nb.txt" <<'PY' || fail "analyze topk listing: $(head -8 "$T/nb.txt")"
import json, sys
m = json.load(open(sys.argv[1]))["matrices"]["tensors"]["cosine"]
ids, v = m["models"], m["values"]
rows = {}
for line in open(sys.argv[2]).read().split("\n")[4:]:
    if line.strip():
        rows[line.split()[0]] = line[17:].strip()
assert len(rows) == len(ids), len(rows)
for i, a in enumerate(ids):
    nb = sorted((j for j in range(len(ids)) if j != i and v[i][j] is not None),
                key=lambda j: (-v[i][j], j))[:3]
    want = ", ".join("%s %.6g" % (ids[j], v[i][j]) for j in nb)
    assert rows[a] == want, (a, rows[a], want)
PY
head -1 "$T/nb.txt" | grep -q "^method tensors, metric cosine (higher is more alike), 3 nearest of each of $nmod models" ||
	fail "topk header: $(head -1 "$T/nb.txt")"
"$MP_BIN" analyze --results-file "$T/ex.topk" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["k"] == 3 and r["metric"] == "cosine" and len(r["neighbours"]) == int(sys.argv[1])
' "$nmod" || fail "analyze topk --json"
expect_error "topk where a matrix is needed" 1 "a top-k neighbour file (3 neighbours" \
	correlate --results-file "$T/ex.topk" --metrics l1,cosine
head -c 700 "$T/ex.topk" > "$T/cut.topk"
expect_error "truncated topk" 1 "$T/cut.topk: top-k neighbour file" analyze --results-file "$T/cut.topk"
expect_error "topk --k $nmod" 1 "k = $nmod neighbours of $nmod models" matrix topk "$T/x.topk" --k "$nmod" \
	--results-file "$RES"
expect_error "topk of spectral via LSH" 2 "tensors fingerprints" matrix topk "$T/x.topk" --k 3 \
	--registry "$T/reg" --method spectral
ok "top-k neighbour files: exact, through LSH, listed by analyze"

"$MP_BIN" analyze --help | grep -q "^usage: modelprint analyze" || fail "analyze --help"
"$MP_BIN" correlate --help | grep -q "^usage: modelprint correlate" || fail "correlate --help"
finish
