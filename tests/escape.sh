#!/bin/sh
# tests/escape.sh — text from hostile files and arguments never reaches the
# terminal raw: tensor names, dtype strings, shard paths, registry fields,
# config and results keys holding OSC/CSI sequences, BEL, the C1 control
# U+009B and an invalid byte are shown escaped (\x1b, \u009b, \xff) by every
# command, in tables, lists and error messages, and every JSON output is
# valid UTF-8.
. "$MP_SRCDIR/tests/lib.sh"
export LC_ALL=C # byte lengths in ${#h}; the program must not rely on it

# H: the hostile text as bytes; JH: the same inside a JSON string (\u
# escapes and a raw 0xff byte).
H=$(printf 'A\033]0;pwned\007B\033[2JC\302\233D\377E')
H8=$(printf 'A\033]0;pwned\007B\033[2JC\302\233D') # valid UTF-8
JH=$(printf 'A\\u001b]0;pwned\\u0007B\\u001b[2JC\\u009bD\377E')

# clean LABEL FILE: no ESC, no BEL and no U+009B (c2 9b) in FILE, and
# FILE is valid UTF-8
clean() {
	hex=$(od -An -tx1 -v "$2" | tr -s ' \n' '  ')
	case " $hex " in
	*" 1b "* | *" 07 "* | *" c2 9b "*)
		fail "$1: a raw ESC, BEL or U+009B reached the output:
$(cat -v "$2")" ;;
	esac
	python3 -c 'import sys; open(sys.argv[1], encoding="utf-8").read()' "$2" \
		2>/dev/null || fail "$1: not valid UTF-8: $(cat -v "$2")"
}
# shown LABEL FILE [utf8]: the escaped forms are in FILE (but \xff with
# utf8)
shown() {
	grep -qF '\x1b' "$2" && grep -qF '\u009b' "$2" &&
		{ [ -n "${3:-}" ] || grep -qF '\xff' "$2"; } ||
		fail "$1: escaped text missing: $(cat -v "$2")"
}
# valid_json LABEL FILE
valid_json() {
	python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' \
		"$2" 2>/dev/null || fail "$1: not valid JSON in UTF-8: $(cat -v "$2")"
	clean "$1" "$2"
}
# run LABEL ARGS...: stdout in $T/out, stderr in $T/err, status in $rc;
# both checked clean
run() {
	label=$1; shift
	rc=0; "$MP_BIN" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	clean "$label (stdout)" "$T/out"
	clean "$label (stderr)" "$T/err"
}
# one_error LABEL: exit 1 and one line on stderr
one_error() {
	[ "$rc" = 1 ] || fail "$1: exit $rc"
	[ "$(wc -l < "$T/err")" = 1 ] || fail "$1: not one line: $(cat -v "$T/err")"
}

# --- safetensors: hostile tensor names, metadata and file name ------------
HS="$T/m$H.safetensors"
hdr=$(printf '{"__metadata__":{"note":"%s"},"w%s":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}' "$JH" "$JH")
st_write "$HS" "$hdr" "$F1$F2$F3$F4$FM1$FH"
model_a "$T/a.safetensors"
cp "$HS" "$T/copy.safetensors"

run "fingerprint table" fingerprint "$HS" "$T/copy.safetensors"
[ "$rc" = 0 ] || fail "fingerprint of the hostile model: exit $rc $(cat -v "$T/err")"
shown "fingerprint table" "$T/out"
grep -q 'safetensors  *2  *6 ' "$T/out" || fail "fingerprint row: $(cat -v "$T/out")"
run "fingerprint --json" fingerprint --json -o "$T/fp.json" "$HS"
valid_json "fingerprint --json" "$T/out"
valid_json "fingerprint -o" "$T/fp.json"
python3 - "$T/out" <<'PY' || fail "fingerprint --json: the tensor name changed"
import json, sys
names = [t["name"] for t in json.load(open(sys.argv[1]))["fingerprints"][0]["tensors"]]
# ESC, BEL and U+009B are kept as characters (JSON escapes them); the
# invalid byte becomes the four characters \xff
want = "wA\x1b]0;pwned\x07B\x1b[2JC\x9bD\\xffE"
sys.exit(0 if want in names else 1)
PY
ok "fingerprint"

run "compare, same names" compare "$HS" "$T/copy.safetensors"
[ "$rc" = 0 ] || fail "compare: exit $rc $(cat -v "$T/err")"
shown "compare table" "$T/out"
run "compare, only in" compare "$HS" "$T/a.safetensors"
[ "$rc" = 0 ] || fail "compare only-in: exit $rc"
grep -qF 'wA\x1b]0;pwned\x07B\x1b[2JC\u009bD\xffE' "$T/out" ||
	fail "only-in list: $(cat -v "$T/out")"
run "compare --json" compare --json "$HS" "$T/a.safetensors"
valid_json "compare --json" "$T/out"
ok "compare"

# --- safetensors and TF.js errors quote hostile strings -------------------
hdr=$(printf '{"w":{"dtype":"%s","shape":[1],"data_offsets":[0,4]}}' "$JH")
st_write "$T/dt.safetensors" "$hdr" "$F1"
run "safetensors dtype error" fingerprint "$T/dt.safetensors"
one_error "safetensors dtype error"
grep -qF '\x1b' "$T/err" || fail "dtype error: $(cat -v "$T/err")"
mkdir -p "$T/tj"
printf "$F1" > "$T/tj/w.bin"
tj() { # DIR WEIGHT-JSON [PATH]
	mkdir -p "$1"
	printf '{"format":"graph-model","weightsManifest":[{"paths":["%s"],"weights":[%s]}]}' \
		"${3:-w.bin}" "$2" > "$1/model.json"
	cp "$T/tj/w.bin" "$1/w.bin"
}
tj "$T/tj1" "$(printf '{"name":"k%s","shape":[1],"dtype":"float32"}' "$JH")"
run "tfjs weight names" fingerprint "$T/tj1/model.json"
[ "$rc" = 0 ] || fail "tfjs with a hostile name: exit $rc $(cat -v "$T/err")"
run "tfjs --json" fingerprint --json "$T/tj1/model.json"
valid_json "tfjs --json" "$T/out"
tj "$T/tj2" "$(printf '{"name":"k","shape":[1],"dtype":"%s"}' "$JH")"
run "tfjs dtype error" fingerprint "$T/tj2/model.json"
one_error "tfjs dtype error"
shown "tfjs dtype error" "$T/err"
tj "$T/tj3" "$(printf '{"name":"k","shape":[1],"dtype":"float32","quantization":{"dtype":"%s","scale":1,"min":0}}' "$JH")"
run "tfjs quantization error" fingerprint "$T/tj3/model.json"
one_error "tfjs quantization error"
shown "tfjs quantization error" "$T/err"
tj "$T/tj4" '{"name":"k","shape":[1],"dtype":"float32"}' "s$JH.bin"
run "tfjs shard error" fingerprint "$T/tj4/model.json"
one_error "tfjs shard error"
grep -qF '\x1b' "$T/err" || fail "shard error: $(cat -v "$T/err")"
run "missing file named on the command line" fingerprint "$T/no$H"
one_error "missing file"
shown "missing file" "$T/err"
run "compare, missing file" compare "$T/no$H" "$HS"
one_error "compare, missing file"
ok "errors"

# --- registry: hostile name, family, type and path -------------------------
# JSON holds UTF-8 only: text that is not is refused, never stored changed
R="$T/reg"
run "registry add, not UTF-8" registry --registry "$R" add "$HS"
one_error "registry add, not UTF-8"
grep -q 'is not valid UTF-8' "$T/err" || fail "registry add, not UTF-8: $(cat -v "$T/err")"
run "registry add, name not UTF-8" registry --registry "$R" add "$T/a.safetensors" --name "$H"
one_error "registry add, name not UTF-8"
HR="$T/r$H8.safetensors"
cp "$HS" "$HR"
run "registry add" registry --registry "$R" add "$HR" --name "n$H8" \
	--family "f$H8" --type "t$H8"
[ "$rc" = 0 ] || fail "registry add: exit $rc $(cat -v "$T/err")"
run "registry add --json" registry --registry "$R" add "$T/a.safetensors" \
	--name "$H8" --json
valid_json "registry add --json" "$T/out"
run "registry list" registry --registry "$R" list
shown "registry list" "$T/out" utf8
grep -q '^1 ' "$T/out" && grep -q '^2 ' "$T/out" || fail "registry list rows: $(cat -v "$T/out")"
# NAME, FAMILY, TYPE are 32, 16 and 10 columns: 29, 13 and 7 of the
# escaped text and "..."
grep -qF '1      nA\x1b]0;pwned\x07B\x1b[2JC\u... fA\x1b]0;pwne... tA\x1b]... safetensors ' "$T/out" ||
	fail "registry list columns: $(cat -v "$T/out")"
run "registry show" registry --registry "$R" show 1
shown "registry show" "$T/out" utf8
for f in name family type path file; do
	grep -q "^$f: .*\\\\x1b" "$T/out" || fail "registry show $f: $(cat -v "$T/out")"
done
run "registry list --json" registry --registry "$R" list --json
valid_json "registry list --json" "$T/out"
run "registry show --json" registry --registry "$R" show 1 --json
valid_json "registry show --json" "$T/out"
python3 - "$T/out" "$HR" <<'PY' || fail "registry show --json: the path changed"
import json, os, sys
p = json.load(open(sys.argv[1]))["path"]
sys.exit(0 if os.fsencode(p) == os.fsencode(sys.argv[2]) else 1)
PY
run "registry show, unknown id" registry --registry "$R" show "x$H"
one_error "registry show, unknown id"
shown "registry show, unknown id" "$T/err"
run "registry usage error" registry --registry "$R" "$H"
[ "$rc" = 2 ] || fail "registry usage error: exit $rc"
run "unknown option" compare "--x$H" a b
[ "$rc" = 2 ] || fail "unknown option: exit $rc"
grep -qF "bad option '--xA\x1b]0;pwned" "$T/err" || fail "unknown option: $(cat -v "$T/err")"
ok "registry"

# --- run: hostile method and metric names in a config ----------------------
printf '{"models":["1","2"],"methods":["%s"],"metrics":["cosine"]}' "$JH" > "$T/cfg1.json"
run "config method" run --config "$T/cfg1.json" --registry "$R" --output-dir "$T/o1"
one_error "config method"
shown "config method" "$T/err"
printf '{"models":["1","2"],"methods":["tensors"],"metrics":["%s"]}' "$JH" > "$T/cfg2.json"
run "config metric" run --config "$T/cfg2.json" --registry "$R" --output-dir "$T/o2"
one_error "config metric"
shown "config metric" "$T/err"
printf '{"models":["1","2"],"methods":["tensors"],"metrics":["cosine"]}' > "$T/cfg3.json"
run "run" run --config "$T/cfg3.json" --registry "$R" --output-dir "$T/o3"
[ "$rc" = 0 ] || fail "run: exit $rc $(cat -v "$T/err")"
valid_json "run: fingerprints.json" "$T/o3/fingerprints.json"
valid_json "run: similarity_matrices.json" "$T/o3/similarity_matrices.json"
ok "run"

# --- analyze and correlate: hostile method, metric, ids and model info ----
printf '{"matrices":{"m%s":{"x%s":{"models":["a","b","i%s"],"higher_is_more_alike":true,
 "values":[[1,0.5,0.25],[0.5,1,0.75],[0.25,0.75,1]]},
 "cosine":{"models":["a","b","i%s"],"higher_is_more_alike":true,
 "values":[[1,0.4,0.2],[0.4,1,0.9],[0.2,0.9,1]]}}}}' "$JH" "$JH" "$JH" "$JH" > "$T/res.json"
printf '[{"model_id":"a","family":"F%s","model_type":"T%s","display_name":"d%s"},
 {"model_id":"b","family":"F%s","model_type":"U"},{"model_id":"z%s","family":"G"}]' \
	"$JH" "$JH" "$JH" "$JH" "$JH" > "$T/info.json"
run "analyze" analyze --results-file "$T/res.json" --model-info "$T/info.json" \
	--output-dir "$T/an"
[ "$rc" = 0 ] || fail "analyze: exit $rc $(cat -v "$T/err")"
shown "analyze" "$T/out"
head -n 1 "$T/out" | grep -qF 'method mA\x1b]0;pwned\x07B\x1b[2JC\u009bD\xffE, metric x' ||
	fail "analyze first line: $(head -n 1 "$T/out" | cat -v)"
for f in summary.txt pairs_intrafamily.txt pairs_interfamily.txt pairs_type_pairs.txt; do
	clean "analyze: $f" "$T/an/$f"
done
shown "analyze: summary.txt" "$T/an/summary.txt"
grep -qF '\x1b' "$T/an/pairs_intrafamily.txt" || fail "pairs_intrafamily.txt: $(cat -v "$T/an/pairs_intrafamily.txt")"
valid_json "analyze: analysis.json" "$T/an/analysis.json"
clean "analyze: dashboard.html" "$T/an/dashboard.html"
run "analyze --json" analyze --results-file "$T/res.json" --model-info "$T/info.json" --json
valid_json "analyze --json" "$T/out"
clean "analyze --json warnings" "$T/err"
run "analyze, unknown method" analyze --results-file "$T/res.json" \
	--model-info "$T/info.json" --method "q$H"
one_error "analyze, unknown method"
shown "analyze, unknown method" "$T/err"

run "correlate" correlate --results-file "$T/res.json" --metrics "x$H,cosine" \
	--output-dir "$T/co" --model-info "$T/info.json"
[ "$rc" = 0 ] || fail "correlate: exit $rc $(cat -v "$T/err")"
shown "correlate" "$T/out"
head -n 1 "$T/out" | grep -qF 'method mA\x1b]0;pwned\x07B\x1b[2JC\u009bD\xffE: 3 models' ||
	fail "correlate first line: $(head -n 1 "$T/out" | cat -v)"
valid_json "correlate: correlation.json" "$T/co/correlation.json"
clean "correlate: correlation.html" "$T/co/correlation.html"
run "correlate --json" correlate --results-file "$T/res.json" --metrics "x$H,cosine" --json
valid_json "correlate --json" "$T/out"
run "correlate, unknown metric" correlate --results-file "$T/res.json" --metrics "cosine,y$H"
one_error "correlate, unknown metric"
shown "correlate, unknown metric" "$T/err"
ok "analyze and correlate"

# --- the interface's text dump draws no control characters ----------------
run "tui --screen" tui --registry "$R" --screen 'j<Enter>'
[ "$rc" = 0 ] || fail "tui --screen: exit $rc $(cat -v "$T/err")"
ok "tui"
finish
