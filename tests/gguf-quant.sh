#!/bin/sh
# tests/gguf-quant.sh — "which model is this GGUF a quantization of?".
# GGUF files quantized here by tests/gguf_quant.py (ggml's reference Q8_0
# and Q4_0 rounding, written in numpy) from the real parent
# ../shared/fixtures/gguf/parent: compare and identify must call each a
# quantization of its source with the error ratio the script computes
# from the values it wrote, a fine-tune quantized afterwards a fine-tune
# (more error than the grids explain), a Q4_0 made from the Q8_0 file a
# requantization of it, and flag a general.base_model that names another
# model. Then the real llama.cpp quantizations of the fixture: each is a
# quantization of the F32 parent, found among the parent's own F16 and
# Q8_0 conversions. Last the lattice i-quants (IQ1_S .. IQ3_S), which the
# fixtures lack: tests/gguf_iquant.py quantizes the parent's first
# attention matrices to each by brute-force nearest grid point; each is a
# quantization of that parent (error ratio as the script computes it from
# the values and steps it wrote), a fine-tune moved by twice the
# quantization error and quantized the same way is not.
. "$MP_SRCDIR/tests/lib.sh"
FIX="$MP_SRCDIR/../shared/fixtures/gguf"
P="$FIX/parent/model.safetensors"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
Q="$PY $MP_SRCDIR/tests/gguf_quant.py"
[ -f "$P" ] || { fail "no parent fixture in $FIX"; finish; }

# field JSON_FILE EXPR: a value of the JSON document (python expression on d)
field() {
	$PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}
# close A B: A and B agree to 1e-6 relative
close() {
	$PY -c "import sys; a,b=map(float,sys.argv[1:]); sys.exit(abs(a-b)>1e-6*abs(b))" "$1" "$2"
}

$Q quant "$P" Q8_0 "$T/q8.gguf" --base-model "modelprint fixture parent" > "$T/q8.want"
$Q quant "$P" Q4_0 "$T/q4.gguf" --base-model "Mistral 7B v0.1" > "$T/q4.want"
$Q quant "$P" Q8_0 "$T/ftq8.gguf" --noise 0.02 --seed 7 \
	--save-src "$T/ft.safetensors" > "$T/ftq8.want"
$Q quant "$T/q8.gguf" Q4_0 "$T/rq4.gguf" > "$T/rq4.want"
$Q ratio "$T/rq4.gguf" "$P" > "$T/rq4-parent.want"

# 1. a quantization, with the error ratio computed independently
for x in q8 q4; do
	"$MP_BIN" compare "$T/$x.gguf" "$P" --json > "$T/$x.json"
	k=$(field "$T/$x.json" "d['relation']['kind']")
	r=$(field "$T/$x.json" "d['relation']['ggml']['error_ratio']")
	w=$(field "$T/$x.json" "d['relation']['ggml']['within_half_step']")
	want=$(field "$T/$x.want" "d['ratio']")
	wantw=$(field "$T/$x.want" "d['within']")
	if [ "$k" = quant ] && close "$r" "$want" && close "$w" "$wantw"; then
		ok "$x: quantization, error ratio $r (python $want), within $w"
	else
		fail "$x: kind $k ratio $r within $w, want quant $want $wantw"
	fi
done
ft=$(field "$T/q4.json" "d['relation']['ggml']['file_type']")
[ "$ft" = Q4_0 ] && ok "q4: file type Q4_0" || fail "q4: file type '$ft'"

# 2. the other way round: the parent is the original of the GGUF
"$MP_BIN" compare "$P" "$T/q8.gguf" --json > "$T/rev.json"
[ "$(field "$T/rev.json" "d['relation']['kind'], d['relation']['ggml']['reversed']")" = "quant True" ] &&
	ok "parent vs q8: B is the quantized model" ||
	fail "parent vs q8: $(field "$T/rev.json" "d['relation']['kind']")"

# 3. a fine-tune quantized: more error than Q8_0 leaves, against the
# parent; a plain quantization of the fine-tuned weights
"$MP_BIN" compare "$T/ftq8.gguf" "$P" --json > "$T/ftp.json"
k=$(field "$T/ftp.json" "d['relation']['kind']")
r=$(field "$T/ftp.json" "d['relation']['ggml']['error_ratio']")
want=$($Q ratio "$T/ftq8.gguf" "$P" | $PY -c "import json,sys; print(json.load(sys.stdin)['ratio'])")
if [ "$k" = finetune ] && close "$r" "$want" &&
	$PY -c "import sys; sys.exit(not float(sys.argv[1]) > 1.25)" "$r"; then
	ok "fine-tune then Q8_0 vs parent: fine-tune, error ratio $r (python $want)"
else
	fail "fine-tune then Q8_0 vs parent: kind $k ratio $r (python $want)"
fi
"$MP_BIN" compare "$T/ftq8.gguf" "$T/ft.safetensors" --json > "$T/ftf.json"
[ "$(field "$T/ftf.json" "d['relation']['kind']")" = quant ] &&
	ok "fine-tune then Q8_0 vs the fine-tune: quantization" ||
	fail "fine-tune then Q8_0 vs the fine-tune: $(field "$T/ftf.json" "d['relation']['kind']")"
"$MP_BIN" identify "$T/ftq8.gguf" "$P" > "$T/ftid.txt"
grep -q "verdict: the unknown is most likely a fine-tune of model.safetensors, quantized (Q8_0: Q8_0" "$T/ftid.txt" &&
	ok "identify: fine-tune, quantized" ||
	fail "identify fine-tune quantized: $(grep verdict "$T/ftid.txt")"

# 4. requantization: Q4_0 made from the Q8_0 file
"$MP_BIN" compare "$T/rq4.gguf" "$T/q8.gguf" --json > "$T/rq.json"
[ "$(field "$T/rq.json" "d['relation']['kind'], d['relation']['ggml']['requantized_from']")" = "quant Q8_0" ] &&
	ok "rq4 vs q8: requantization from Q8_0" ||
	fail "rq4 vs q8: $(field "$T/rq.json" "d['relation']")"
# against both, the Q8_0 source leaves less error than the F32 parent
# (python: $(cat "$T/rq4.want") vs the parent $(cat "$T/rq4-parent.want"))
$PY -c "import json,sys; a=json.load(open(sys.argv[1]))['ratio']; b=json.load(open(sys.argv[2]))['ratio']; sys.exit(not a < b)" \
	"$T/rq4.want" "$T/rq4-parent.want" || fail "python: the Q8_0 source is not closer"
"$MP_BIN" identify "$T/rq4.gguf" "$P" "$T/q8.gguf" --json > "$T/rqid.json"
v=$(field "$T/rqid.json" "d['verdict']['text']")
case "$v" in
"the unknown is most likely requantized (Q8_0 -> Q4_0: Q4_0 "*"from q8.gguf") ok "identify: $v" ;;
*) fail "identify rq4: $v" ;;
esac

# 5. the declared base model beside the answer
"$MP_BIN" identify "$T/q8.gguf" "$P" --json > "$T/q8id.json"
[ "$(field "$T/q8id.json" "d['declared']['base_model'], d['declared']['base_model_agrees']")" = "modelprint fixture parent True" ] &&
	ok "q8: declared base model agrees" ||
	fail "q8: declared $(field "$T/q8id.json" "d['declared']")"
"$MP_BIN" identify "$T/q4.gguf" "$P" > "$T/q4id.txt"
"$MP_BIN" identify "$T/q4.gguf" "$P" --json > "$T/q4id.json"
if [ "$(field "$T/q4id.json" "d['declared']['base_model_agrees']")" = False ] &&
	grep -q "declared base model: Mistral 7B v0.1" "$T/q4id.txt" &&
	grep -q "WARNING: the file's general.base_model does not name the measured parent" "$T/q4id.txt" &&
	grep -q "verdict: the unknown is most likely quantized (Q4_0: Q4_0" "$T/q4id.txt"; then
	ok "q4: a base model naming another model is flagged"
else
	fail "q4: $(grep -E 'verdict|declared|WARNING' "$T/q4id.txt")"
fi

# 6. llama.cpp's own quantizations: the F32 parent is the source, among
# its F16 and Q8_0 conversions
for q in q4_0 q5_1 q2_k q3_k_m q4_k_m q5_k_m q6_k iq4_nl iq4_xs; do
	"$MP_BIN" identify "$FIX/model-$q.gguf" "$FIX/model-f16.gguf" "$P" \
		"$FIX/model-q8_0.gguf" --json > "$T/id-$q.json"
	got=$(field "$T/id-$q.json" "d['verdict']['relation'], d['verdict']['id'].endswith('parent/model.safetensors'), d['relation']['details']['ggml']['error_ratio'] <= 1.25")
	[ "$got" = "quant True True" ] &&
		ok "$q: quantized from the F32 parent" ||
		fail "$q: $got $(field "$T/id-$q.json" "d['verdict']['text']")"
done

# 7. the lattice i-quants, quantized here
IQ="$PY $MP_SRCDIR/tests/gguf_iquant.py"
S="$T/small.safetensors"
$IQ small "$P" "$S"
for t in IQ2_XXS IQ2_XS IQ2_S IQ3_XXS IQ3_S IQ1_S IQ1_M; do
	$IQ quant "$S" $t "$T/$t.gguf" --finetune "$T/$t-ft.gguf" --noise 2 \
		--seed 5 --save-src "$T/$t-ft.safetensors" > "$T/$t.want" ||
		{ fail "$t: gguf_iquant.py failed"; continue; }
	"$MP_BIN" compare "$T/$t.gguf" "$S" --json > "$T/$t.json"
	k=$(field "$T/$t.json" "d['relation']['kind']")
	r=$(field "$T/$t.json" "(d['relation'].get('ggml') or {}).get('error_ratio', 0)")
	w=$(field "$T/$t.json" "(d['relation'].get('ggml') or {}).get('within_half_step', 0)")
	want=$(field "$T/$t.want" "d['ratio']")
	wantw=$(field "$T/$t.want" "d['within']")
	if [ "$k" = quant ] && close "$r" "$want" && close "$w" "$wantw"; then
		ok "$t: quantization, error ratio $r (python $want), within $w"
	else
		fail "$t: kind $k ratio $r within $w, want quant $want $wantw"
	fi
	"$MP_BIN" identify "$T/$t.gguf" "$S" > "$T/$t-id.txt"
	grep -q "verdict: the unknown is most likely quantized ($t: $t 99 %, F32 0.58 %) from small.safetensors" "$T/$t-id.txt" &&
		ok "$t: identify says quantized ($t) from the parent" ||
		fail "$t: identify: $(grep verdict "$T/$t-id.txt")"
	# the fine-tune: python's ratio against the parent is past the limit,
	# and modelprint does not call it a quantization of the parent
	$PY -c "import json,sys; sys.exit(not json.load(open(sys.argv[1]))['finetune_vs_parent'] > 1.25)" "$T/$t.want" ||
		fail "$t: python: the fine-tune is within the limit ($(cat "$T/$t.want"))"
	"$MP_BIN" compare "$T/$t-ft.gguf" "$S" --json > "$T/$t-ftp.json"
	k=$(field "$T/$t-ftp.json" "d['relation']['kind']")
	"$MP_BIN" identify "$T/$t-ft.gguf" "$S" > "$T/$t-ftid.txt"
	if [ "$k" != quant ] && ! grep -q "verdict: the unknown is most likely quantized" "$T/$t-ftid.txt"; then
		ok "$t: the fine-tune quantized is not a quantization of the parent ($k; $(grep verdict: "$T/$t-ftid.txt"))"
	else
		fail "$t: the fine-tune quantized: kind $k, $(grep verdict: "$T/$t-ftid.txt")"
	fi
	"$MP_BIN" compare "$T/$t-ft.gguf" "$T/$t-ft.safetensors" --json > "$T/$t-ftf.json"
	[ "$(field "$T/$t-ftf.json" "d['relation']['kind']")" = quant ] &&
		ok "$t: the fine-tune quantized is a quantization of the fine-tune" ||
		fail "$t: fine-tune vs its quantization: $(field "$T/$t-ftf.json" "d['relation']['kind']")"
done
# 8. the parent's files gone, its fingerprint alone in a registry: the
# quantization measured at the parent's sketch positions, the ratio
# against python's over the same positions (found from the parent's
# sketches); a fine-tune that moved the weights by about twice the Q8_0
# error (noise 0.01 of each matrix's deviation; python: ratio ~2), and
# the one above (noise 0.02), quantized the same way, stay fine-tunes.
$Q quant "$P" Q8_0 "$T/ft2q8.gguf" --noise 0.01 --seed 7 > /dev/null
mkdir -p "$T/gone"
cp -r "$FIX/parent" "$T/gone/parent"
"$MP_BIN" fingerprint --json -o "$T/parent-fp.json" "$T/gone/parent" > /dev/null ||
	fail "fingerprint parent"
"$MP_BIN" registry --registry "$T/reg.db" add "$T/gone/parent" --fingerprint \
	--name parent > /dev/null || fail "registry add parent"
rm -rf "$T/gone/parent"
for x in q8:quant q4:quant ft2q8:finetune ftq8:finetune; do
	f=${x%%:*} want=${x#*:}
	"$MP_BIN" identify --json "$T/$f.gguf" --against "$T/reg.db" \
		> "$T/s-$f.json" 2> /dev/null || fail "identify $f exit $?"
	$Q sketchratio "$T/$f.gguf" "$P" "$T/parent-fp.json" > "$T/s-$f.want"
	got=$(field "$T/s-$f.json" "d['verdict']['relation'], d['verdict']['name'], d['relation']['source'], d['relation'].get('details', {}).get('ggml', {}).get('sketch_positions')")
	r=$(field "$T/s-$f.json" "d['relation'].get('details', {}).get('ggml', {}).get('error_ratio')")
	w=$(field "$T/s-$f.json" "d['relation'].get('details', {}).get('ggml', {}).get('within_half_step')")
	n=$(field "$T/s-$f.json" "d['relation'].get('details', {}).get('ggml', {}).get('values')")
	wr=$(field "$T/s-$f.want" "d['ratio']")
	ww=$(field "$T/s-$f.want" "d['within']")
	wn=$(field "$T/s-$f.want" "d['values']")
	big=$($PY -c "import sys; print(float(sys.argv[1]) > 1.25)" "$wr")
	if [ "$got" = "$want parent sketches True" ] && close "$r" "$wr" &&
		close "$w" "$ww" && [ "$n" = "$wn" ] &&
		{ [ "$want" = quant ] || [ "$big" = True ]; }; then
		ok "$f vs the parent's fingerprint: $want, error ratio $r at $n sketch positions (python $wr)"
	else
		fail "$f vs the parent's fingerprint: $got ratio $r within $w n $n (python $wr $ww $wn)"
	fi
done
v=$(field "$T/s-ft2q8.json" "d['verdict']['text']")
[ "$v" = "the unknown is most likely a fine-tune of parent, quantized (Q8_0: Q8_0 100 %, F32 0.06 %)" ] &&
	ok "ft2q8: $v" || fail "ft2q8 verdict: $v"
finish
