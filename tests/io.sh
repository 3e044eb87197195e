#!/bin/sh
# tests/io.sh — the input_output method (seed 000's workflow): the
# fingerprint of the real LLaMA fixture and of stories260K equals an
# independent numpy/torch implementation of the published algorithm
# (tests/llm_ref.py io) on the same probes and targets, read here from
# lists with repeated, out-of-vocabulary and raw-id entries; the parent
# and its F16 GGUF conversion agree (l1 >= 0.99), an unrelated model
# with the same shapes does not; the seed's example config runs; bad
# input gives one clear error.
. "$MP_SRCDIR/tests/lib.sh"
FIX="$MP_SRCDIR/../shared/fixtures"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
REF="$PY $MP_SRCDIR/tests/llm_ref.py"
[ -d "$FIX/gguf/parent" ] || { fail "no fixtures in $FIX"; finish; }

# Lists: raw ids, a repeated entry, one out of every vocabulary, a blank
# line, CRLF ends.
$PY - "$T" <<'PY'
import random, sys
t = sys.argv[1]
r = random.Random(3)
p = ["#%d" % r.randrange(512) for _ in range(120)]
p[7] = p[3]                      # repeated: dropped
p.insert(10, "#99999")           # outside the vocabulary: skipped
p.insert(11, "")                 # blank: skipped
open(t + "/probes.txt", "w", newline="").write("\r\n".join(p) + "\r\n")
tg = ["#%d" % r.randrange(512) for _ in range(30)]
tg.append(tg[0])
open(t + "/targets.txt", "w").write("\n".join(tg) + "\n")
PY
# the entries the algorithm uses, as the reference wants them
$PY - "$T" > "$T/lists" <<'PY'
import sys
t = sys.argv[1]
def ids(f, probes):
    seen, out, skipped, repeated = set(), [], 0, 0
    for line in open(f, newline=""):
        line = line.rstrip("\n").rstrip("\r")
        if not line:
            continue
        if line in seen:
            repeated += 1
            continue
        seen.add(line)
        v = int(line[1:])
        if v >= 512:
            skipped += 1
        elif probes or v not in out:
            out.append(v)
    return out, skipped, repeated
p, s, r = ids(t + "/probes.txt", True)
tg = ids(t + "/targets.txt", False)[0]
print(";".join(map(str, p)))
print(",".join(map(str, tg)))
print("%d probes (%d skipped, %d repeated; " % (len(p), s, r))
print("%d target tokens" % len(tg))
PY
PROBES=$(sed -n 1p "$T/lists") TARGETS=$(sed -n 2p "$T/lists")
NOTE_P=$(sed -n 3p "$T/lists") NOTE_T=$(sed -n 4p "$T/lists")
ARGS="--arg probe_tokens_path=$T/probes.txt --arg target_tokens_path=$T/targets.txt"

vec() { # vec FP.json: the vector, space separated
	$PY -c "import json,sys; print(' '.join('%.12g' % x for x in json.load(open(sys.argv[1]))['fingerprints'][0]['vector']))" "$1"
}
agree() { # agree LABEL GOT WANT TOL
	if $PY -c "
import sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
sys.exit(len(a) != len(b) or not a or max(abs(x - y) for x, y in zip(a, b)) > float(sys.argv[3]))" "$2" "$3" "$4"; then
		ok "$1: $(echo "$2" | wc -w) values agree with the reference to $4"
	else
		fail "$1: got [$2] want [$3]"
	fi
}

# 1. against the reference (numpy/torch, the published equations)
for m in llm/stories260K.bin gguf/parent; do
	n0=40
	[ "$m" = llm/stories260K.bin ] && n0=10
	"$MP_BIN" fingerprint --method input_output --arg n0=$n0 $ARGS --json \
		"$FIX/$m" > "$T/fp.json" || fail "$m: fingerprint failed"
	# float32 forward pass against float64: the eigenvalues (normalised
	# to norm 1) agree to a few 1e-6
	agree "$m" "$(vec "$T/fp.json")" "$($REF io "$FIX/$m" "$PROBES" "$TARGETS" $n0)" 2e-5
done
# the counts in the fingerprint's note, as python counts them
note=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['fingerprints'][0]['vector_note'])" "$T/fp.json")
case "$note" in
"$NOTE_P"*"$NOTE_T"*) ok "note: $note" ;;
*) fail "note: $note" ;;
esac

# the default lists, encoded with a GGUF's own tokenizer (the real
# LLaMA-2 vocabulary): min(n0, width 8) values of norm 1
"$MP_BIN" fingerprint --method input_output --json \
	"$FIX/gguf/llama-2-tiny-random.gguf" > "$T/tiny.json" || fail "tiny: fingerprint failed"
got=$($PY -c "
import json, sys
f = json.load(open(sys.argv[1]))['fingerprints'][0]
v = f['vector']
print(len(v), abs(sum(x * x for x in v) - 1) < 1e-9, v == sorted(v), 'tokenizer llama' in f['vector_note'])" "$T/tiny.json")
[ "$got" = "8 True True True" ] && ok "tiny LLaMA-2 GGUF, default lists: $got" ||
	fail "tiny LLaMA-2 GGUF: $got"

# 2. the parent, its F16 GGUF conversion, an unrelated model of the same
# shapes (the parent's values shuffled within each tensor)
$PY - "$FIX/gguf/parent" "$T/other" <<'PY'
import json, os, shutil, struct, sys
import numpy as np
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
shutil.copy(os.path.join(src, "config.json"), dst)
data = open(os.path.join(src, "model.safetensors"), "rb").read()
n = struct.unpack_from("<Q", data)[0]
head = json.loads(data[8:8 + n])
body = bytearray(data[8 + n:])
rng = np.random.default_rng(5)
for k, v in head.items():
    if k == "__metadata__":
        continue
    a, b = v["data_offsets"]
    x = np.frombuffer(bytes(body[a:b]), "<f4").copy()
    rng.shuffle(x)
    body[a:b] = x.tobytes()
open(os.path.join(dst, "model.safetensors"), "wb").write(data[:8 + n] + bytes(body))
PY
for m in "$FIX/gguf/parent" "$FIX/gguf/model-f16.gguf" "$T/other"; do
	"$MP_BIN" fingerprint --method input_output $ARGS --json "$m" > "$T/$(basename "$m").json" ||
		fail "$m: fingerprint failed"
done
l1() { # l1 A.json B.json: seed 000's l1 over the sorted vectors
	$PY -c "
import json, sys
v = [sorted(json.load(open(f))['fingerprints'][0]['vector']) for f in sys.argv[1:]]
print(1 - sum(abs(x - y) for x, y in zip(*v)) / (sum(map(abs, v[0])) + sum(map(abs, v[1]))))" "$1" "$2"
}
same=$(l1 "$T/parent.json" "$T/model-f16.gguf.json")
other=$(l1 "$T/parent.json" "$T/other.json")
$PY -c "import sys; sys.exit(not float(sys.argv[1]) >= 0.99)" "$same" &&
	ok "parent vs its F16 GGUF: l1 $same" || fail "parent vs F16 GGUF: l1 $same"
$PY -c "import sys; sys.exit(not float(sys.argv[1]) < 0.95)" "$other" &&
	ok "parent vs an unrelated model: l1 $other" || fail "parent vs unrelated: l1 $other"

# 3. the seed's example config, with this registry's ids, unchanged
# otherwise (its list paths resolve here only because the test's lists
# are given the seed's names in a helper_data directory)
R="$T/reg"
"$MP_BIN" registry --registry "$R" add "$FIX/gguf/parent" --name parent >/dev/null
"$MP_BIN" registry --registry "$R" add "$FIX/gguf/model-f16.gguf" --name f16 >/dev/null
"$MP_BIN" registry --registry "$R" add "$T/other" --name other >/dev/null
ids=$("$MP_BIN" registry --registry "$R" list --json | $PY -c "import json,sys; print(','.join('\"%s\"' % m['id'] for m in json.load(sys.stdin)))")
mkdir -p "$T/run/helper_data/io_tokens"
cp "$T/probes.txt" "$T/run/helper_data/io_tokens/probe_tokens.txt"
cp "$T/targets.txt" "$T/run/helper_data/io_tokens/target_tokens.txt"
cat > "$T/run/config.json" <<EOF
{
    "models": [$ids],
    "methods": ["input_output"],
    "method_args": {
      "input_output": {
        "n0": 40,
        "target_tokens_path": "helper_data/io_tokens/target_tokens.txt",
        "probe_tokens_path": "helper_data/io_tokens/probe_tokens.txt"
      }
    },
    "metrics": ["l1"]
  }
EOF
(cd "$T/run" && "$MP_BIN" run --config config.json --registry "$R" \
	--output-dir out > run.out 2>&1) || fail "run: $(cat "$T/run/run.out")"
got=$($PY -c "
import json, sys
d = json.load(open(sys.argv[1]))
m = d['matrices']['input_output']['l1']
print('%.9f %.9f' % (m['values'][0][1], m['values'][0][2]))" "$T/run/out/similarity_matrices.json" 2>&1)
want=$(printf '%.9f %.9f' "$same" "$other")
[ "$got" = "$want" ] && ok "run with the seed's config: l1 $got" ||
	fail "run l1: got '$got' want '$want'"

# 4. bad input
expect_err() { # expect_err PATTERN ARGS...: failure, PATTERN on the first
	# line (a usage error adds a second: try ... --help)
	pat=$1
	shift
	if "$MP_BIN" "$@" > "$T/out" 2> "$T/err"; then
		fail "$*: succeeded"
	elif head -n 1 "$T/err" | grep -qF -- "$pat"; then
		ok "error: $(cat "$T/err")"
	else
		fail "$*: $(cat "$T/err")"
	fi
}
printf '#99999\n\n#88888\n' > "$T/none.txt"
expect_err "none.txt: no usable probe" fingerprint --method input_output \
	--arg probe_tokens_path="$T/none.txt" --arg target_tokens_path="$T/targets.txt" "$FIX/gguf/parent"
expect_err "argument n0 must be an integer" fingerprint --method input_output \
	--arg n0=0 "$FIX/gguf/parent"
expect_err "line 1 is text, and the model has no tokenizer" fingerprint \
	--method input_output "$FIX/llm/stories260K.bin"
printf '#1\n\nhello\n' > "$T/text.txt"
expect_err "text.txt: line 3 is text" fingerprint --method input_output \
	--arg probe_tokens_path="$T/text.txt" "$FIX/llm/stories260K.bin"
model_a "$T/a.safetensors"
expect_err "input_output needs a causal language model" fingerprint \
	--method input_output $ARGS "$T/a.safetensors"
finish
