#!/bin/sh
# tests/cli.sh — the command line: help, usage errors, fingerprint output
# checked against sha256sum and hand counts, errors on bad files.
. "$MP_SRCDIR/tests/lib.sh"
for c in fingerprint compare run registry; do
	"$MP_BIN" "$c" --help | grep -q "usage: modelprint $c" || fail "$c --help"
	"$MP_BIN" help "$c" | grep -q "usage: modelprint $c" || fail "help $c"
done
"$MP_BIN" --help | grep -q registry || fail "--help lists commands"
"$MP_BIN" --version | grep -q '^BLAS: ' || fail "--version names the BLAS"
# With OpenBLAS: OPENBLAS_CORETYPE is obeyed; unset, its generic Prescott
# fallback is replaced when the CPU has AVX2 and FMA (SkylakeX with AVX-512).
if "$MP_BIN" --version | grep -q '^BLAS: openblas'; then
	OPENBLAS_CORETYPE=Prescott "$MP_BIN" --version | grep -q '(kernel Prescott)$' ||
		fail "--version: OPENBLAS_CORETYPE=Prescott is obeyed"
	flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || :)
	case " $flags " in
	*" avx2 "*" fma "*|*" fma "*" avx2 "*)
		kern=$(env -u OPENBLAS_CORETYPE "$MP_BIN" --version | sed -n 's/^BLAS: openblas (kernel \(.*\))$/\1/p')
		[ -n "$kern" ] && [ "$kern" != Prescott ] ||
			fail "--version: kernel '$kern' on a CPU with AVX2 and FMA" ;;
	esac
fi
"$MP_BIN" --version | grep -Eqx 'MPI: (no|Open MPI [0-9.]+)' || fail "--version says whether MPI is in"
rc=0; "$MP_BIN" frobnicate 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "unknown command exit $rc"
rc=0; "$MP_BIN" fingerprint --bogus x 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "unknown option exit $rc"
rc=0; "$MP_BIN" fingerprint --arg foo=1 x 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "unknown method argument exit $rc"
# help alone is the usage; help COMMAND that command's
"$MP_BIN" help | grep -q '^usage: modelprint' || fail "help alone"
rc=0; "$MP_BIN" help >/dev/null || rc=$?
[ $rc = 0 ] || fail "help alone exit $rc"
# did you mean: one edit away from fingerprint, --method, list
rc=0; err=$("$MP_BIN" fingerprnt 2>&1) || rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "did you mean 'fingerprint'" || fail "mistyped command ($rc): $err"
rc=0; err=$("$MP_BIN" help fingerprnt 2>&1) || rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "did you mean 'fingerprint'" || fail "help mistyped ($rc): $err"
rc=0; err=$("$MP_BIN" fingerprint --metod spectral x 2>&1) || rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "did you mean '--method'" || fail "mistyped option ($rc): $err"
rc=0; err=$("$MP_BIN" analyze --result-file=x 2>&1) || rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "did you mean '--results-file'" || fail "mistyped option= ($rc): $err"
rc=0; err=$("$MP_BIN" fingerprint --method 2>&1) || rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "option '--method' needs a value" || fail "missing value ($rc): $err"
rc=0; err=$("$MP_BIN" fingerprint --json=1 x 2>&1) || rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "option '--json' takes no value" || fail "value for a flag ($rc): $err"
rc=0; err=$("$MP_BIN" registry lsit 2>&1) || rc=$?
[ $rc = 2 ] && echo "$err" | grep -q "did you mean 'list'" || fail "mistyped subcommand ($rc): $err"
rc=0; err=$("$MP_BIN" qwertyuiop 2>&1) || rc=$?
echo "$err" | grep -q "did you mean" && fail "far-off command got a suggestion: $err"
# help texts list the methods of the build, not ones it lacks
"$MP_BIN" analyze --help | grep -q "computes tensors, spectral, weight, input_output)" || fail "analyze --help methods"
"$MP_BIN" fingerprint --help | grep -q "^  --method M  *one of tensors, spectral" || fail "fingerprint --help methods"
for m in $("$MP_BIN" fingerprint --help | sed -n 's/.*--method \([a-z_|]*\)\].*/\1/p' | tr '|' ' '); do
	rc=0; "$MP_BIN" fingerprint --method "$m" "$T/none" 2>/dev/null || rc=$?
	[ $rc = 1 ] || fail "--method $m from the help is refused ($rc)"
done
# bad option values are usage errors (2), found before any file is read
for a in sketch_size=-5 sketch_size=1e9 seed=abc; do
	rc=0; "$MP_BIN" fingerprint --arg $a "$T/none" 2>/dev/null || rc=$?
	[ $rc = 2 ] || fail "--arg $a exit $rc"
done
ok "help and usage errors"

model_a "$T/a.safetensors"
# table: 2 tensors, 6 parameters, all F32
"$MP_BIN" fingerprint "$T/a.safetensors" | grep -Eq 'safetensors +2 +6 +F32 100%' ||
	fail "table row: $("$MP_BIN" fingerprint "$T/a.safetensors")"
json=$("$MP_BIN" fingerprint --json "$T/a.safetensors")
fsum=$(sha256sum "$T/a.safetensors" | cut -d' ' -f1)
echo "$json" | grep -q "\"sha256\":.*\"$fsum\"" || fail "file sha256 missing from JSON"
# tensor b is the last 8 bytes of the file
bsum=$(tail -c 8 "$T/a.safetensors" | sha256sum | cut -d' ' -f1)
echo "$json" | grep -q "$bsum" || fail "tensor sha256 of b missing from JSON"
# mean of w = (1+2+3+4)/4 = 2.5, median 2.5, q25 1.75
echo "$json" | tr -d ' \t\n' | grep -q '"mean":2.5,"std":1.118033988749895' ||
	fail "stats of w"
"$MP_BIN" fingerprint -o "$T/out.json" "$T/a.safetensors" >/dev/null || fail "-o"
grep -q "$fsum" "$T/out.json" || fail "-o file"
ok "fingerprint table and JSON"

# errors: one line naming the file, exit 1; good files still printed
rc=0; err=$("$MP_BIN" fingerprint "$T/missing.safetensors" 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] || fail "missing file exit $rc"
[ "$(echo "$err" | wc -l)" = 1 ] && echo "$err" | grep -q missing.safetensors ||
	fail "missing file message: $err"
printf 'garbage' > "$T/bad.safetensors"
rc=0; out=$("$MP_BIN" fingerprint "$T/bad.safetensors" "$T/a.safetensors" 2>"$T/err") || rc=$?
[ $rc = 1 ] || fail "one bad file of two: exit $rc"
echo "$out" | grep -q a.safetensors || fail "the good file was not printed"
grep -q bad.safetensors "$T/err" || fail "the bad file was not named"
ok "errors"

# compare: identical copies and a different model
cp "$T/a.safetensors" "$T/b.safetensors"
model_c "$T/c.safetensors"
"$MP_BIN" compare "$T/a.safetensors" "$T/b.safetensors" | grep -Eq '^tensors +exact +1$' ||
	fail "compare copies: exact"
out=$("$MP_BIN" compare "$T/a.safetensors" "$T/c.safetensors")
# w: a=(1,2,3,4) c=(4,3,-1,1): cosine 11/sqrt(30*27) = 0.386501; centred
# dot -6.5 over sqrt(5*14.75): Pearson -0.756889. b: cosine 0.5/sqrt(1.25*4.25)
# = 0.216930. Model cosine (4*0.386501 + 2*0.216930)/6 = 0.329977.
echo "$out" | grep -Eq '^w +2x2 +F32 +F32 +no +0\.386501 +-0\.756889' || fail "compare w: $out"
echo "$out" | grep -Eq '^tensors +cosine +0\.329977' || fail "compare model cosine: $out"
"$MP_BIN" compare --json "$T/a.safetensors" "$T/c.safetensors" | grep -q '"only_in_a"' ||
	fail "compare --json"
# the summary comes first: the last score line before the tensor table
echo "$out" | awk '/^TENSOR / { exit !seen } /^spectral / { seen = 1 }' || fail "compare: summary not first: $out"
echo "$out" | grep -qx '2 tensors with the same name and shape, 0 only in A, 0 only in B, 0 with the same name and different shapes' ||
	fail "compare counts: $out"
sum=$("$MP_BIN" compare --summary "$T/a.safetensors" "$T/c.safetensors")
echo "$sum" | grep -Eq '^tensors +cosine +0\.329977' || fail "compare --summary score: $sum"
echo "$sum" | grep -q '^TENSOR\|^w ' && fail "compare --summary lists tensors: $sum"
rc=0; "$MP_BIN" compare --summary --json "$T/a.safetensors" "$T/c.safetensors" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "compare --summary --json exit $rc"
ok "compare"

# the relation of A to B: a copy; w = (1,0,3,0) and b kept: 2 of 6 values
# zeroed (33.3 %), column 1 of w whole
echo "$sum" | grep -qx 'relation: related, kind unclear (low confidence)' || fail "compare relation a/c: $sum"
"$MP_BIN" compare --summary "$T/a.safetensors" "$T/b.safetensors" |
	grep -qx 'relation: exact copy of B (certain confidence)' || fail "compare relation: copy"
st_write "$T/pruned.safetensors" '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}' \
	"$F1\000\000\000\000$F3\000\000\000\000$FM1$FH"
out=$("$MP_BIN" compare --summary "$T/pruned.safetensors" "$T/a.safetensors")
echo "$out" | grep -qx 'relation: pruning of B, 33.3 % sparsity added, whole columns (certain confidence)' ||
	fail "compare relation: pruning: $out"
out=$("$MP_BIN" compare --summary "$T/a.safetensors" "$T/pruned.safetensors")
echo "$out" | grep -qx 'relation: pruning of A (B is the pruned model), 33.3 % sparsity added, whole columns (certain confidence)' ||
	fail "compare relation: reversed pruning: $out"
json=$("$MP_BIN" compare --json "$T/pruned.safetensors" "$T/a.safetensors" | tr -d ' \t\n')
echo "$json" | grep -q '"relation":{"kind":"prune",' || fail "compare --json relation: $json"
echo "$json" | grep -q '"zeroed":2,' || fail "compare --json relation zeroed: $json"
ok "compare relation"

# --merge: m = 0.25 a + 0.75 c, exact in binary
python3 - "$T/m.safetensors" <<'PY'
import json, struct, sys
a = [1, 2, 3, 4, -1, 0.5]; c = [4, 3, -1, 1, 0.5, 2]
v = [0.25 * x + 0.75 * y for x, y in zip(a, c)]
h = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}}).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + struct.pack("<6f", *v))
PY
out=$("$MP_BIN" compare --merge "$T/m.safetensors" "$T/a.safetensors" "$T/c.safetensors")
echo "$out" | grep -Eq '^R1 0\.250000 ' || fail "compare --merge R1: $out"
echo "$out" | grep -Eq '^R2 0\.750000 ' || fail "compare --merge R2: $out"
echo "$out" | grep -Eq '^sum 1, relative residual (0|[0-9.]+e-1[0-9]): linear merge' || fail "compare --merge sum: $out"
echo "$out" | grep -Eq '^w +0\.250000 +0\.750000 +0\.000000$' || fail "compare --merge w: $out"
json=$("$MP_BIN" compare --merge --json "$T/m.safetensors" "$T/a.safetensors" "$T/c.safetensors" | tr -d ' \t\n')
echo "$json" | grep -q '"linear":true' || fail "compare --merge --json: $json"
rc=0; "$MP_BIN" compare --merge "$T/m.safetensors" "$T/a.safetensors" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "compare --merge with one reference: exit $rc"
rc=0; err=$("$MP_BIN" compare --merge "$T/m.safetensors" "$T/a.safetensors" "$T/nope" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q nope || fail "compare --merge missing file: $rc $err"
st_write "$T/x.safetensors" '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' "$F1"
rc=0; err=$("$MP_BIN" compare --merge "$T/m.safetensors" "$T/a.safetensors" "$T/x.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && [ "$(echo "$err" | wc -l)" = 1 ] && echo "$err" | grep -q 'm.safetensors: no floating tensor' ||
	fail "compare --merge, nothing in common: $rc $err"
out=$("$MP_BIN" compare --summary "$T/x.safetensors" "$T/a.safetensors")
echo "$out" | grep -qx 'relation: no tensors in common (certain confidence)' || fail "compare relation: none: $out"
ok "compare --merge"

# quantization: w (4 x 8) round-tripped through int8 symmetric per tensor
# (scale max|w| / 127), b kept in float; and permuted hidden units: rows of
# w1 and b1 and columns of w2 by p = (2 0 3 1)
python3 - "$T" <<'PY'
import json, struct, sys
d = sys.argv[1]
def f32(x): return struct.unpack("<f", struct.pack("<f", x))[0]
def st(path, ts):
    h, off, data = {}, 0, b""
    for name, shape, v in ts:
        h[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + 4 * len(v)]}
        off += 4 * len(v); data += struct.pack("<%df" % len(v), *v)
    h = json.dumps(h).encode(); h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
s = 12345
def rnd():
    global s
    s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
    return f32((s >> 11) / 2**53 - 0.5)
w = [rnd() for _ in range(32)]; b = [rnd() for _ in range(4)]
scale = max(abs(x) for x in w) / 127
q = [max(-127, min(127, round(x / scale))) * scale for x in w]
st(d + "/qr.safetensors", [("b", [4], b), ("w", [4, 8], w)])
st(d + "/qu.safetensors", [("b", [4], b), ("w", [4, 8], q)])
noisy = [x + (rnd() * scale) for x in w]  # up to half a step off
st(d + "/qn.safetensors", [("b", [4], b), ("w", [4, 8], noisy)])
p = [2, 0, 3, 1]
w1 = [rnd() for _ in range(12)]; b1 = [rnd() for _ in range(4)]; w2 = [rnd() for _ in range(8)]
st(d + "/pr.safetensors", [("b1", [4], b1), ("w1", [4, 3], w1), ("w2", [2, 4], w2)])
st(d + "/pu.safetensors", [("b1", [4], [b1[p[i]] for i in range(4)]),
    ("w1", [4, 3], [w1[3 * p[i] + j] for i in range(4) for j in range(3)]),
    ("w2", [2, 4], [w2[4 * i + p[j]] for i in range(2) for j in range(4)])])
PY
out=$("$MP_BIN" compare --summary "$T/qu.safetensors" "$T/qr.safetensors")
echo "$out" | grep -qx 'relation: quantization of B, int8 symmetric per tensor on 1 of 2 tensors (certain confidence)' ||
	fail "compare relation: quantization: $out"
echo "$out" | grep -q '^  evidence: 1 of 2 matched tensors of A lie on a grid derived from the values of B (1 int8 symmetric per tensor)' ||
	fail "compare relation: quantization evidence: $out"
out=$("$MP_BIN" compare --summary "$T/qr.safetensors" "$T/qu.safetensors")
echo "$out" | grep -qx 'relation: quantization of A (B is the quantized model), int8 symmetric per tensor on 1 of 2 tensors (certain confidence)' ||
	fail "compare relation: reversed quantization: $out"
json=$("$MP_BIN" compare --json "$T/qu.safetensors" "$T/qr.safetensors" | tr -d ' \t\n')
echo "$json" | grep -q '"relation":{"kind":"quant","text":"quantization",' || fail "compare --json quant kind: $json"
echo "$json" | grep -q '"reversed":false,"grid":"int8symmetricpertensor","bits":8,"block":0,"on_grid":1,"max_error_steps":0\.[0-5]' ||
	fail "compare --json quant members: $json"
echo "$json" | grep -q '"grids":\[{"grid":"int8symmetricpertensor","tensors":1}\]' || fail "compare --json quant grids: $json"
out=$("$MP_BIN" compare --summary "$T/qn.safetensors" "$T/qr.safetensors")
echo "$out" | grep -q '^relation: quantization' && fail "compare relation: half a step of noise read as quantization: $out"
out=$("$MP_BIN" compare --summary "$T/pu.safetensors" "$T/pr.safetensors")
echo "$out" | grep -qx 'relation: permuted hidden units of B, 1 permutation on 3 tensors (certain confidence)' ||
	fail "compare relation: permuted: $out"
echo "$out" | grep -q 'permutation 1: 4 of 4 units moved, on values of b1, rows of w1, columns of w2 (unit i of A is unit p\[i\] of B; p = 2 0 3 1)' ||
	fail "compare relation: permuted evidence: $out"
json=$("$MP_BIN" compare --json "$T/pu.safetensors" "$T/pr.safetensors" | tr -d ' \t\n')
echo "$json" | grep -q '"kind":"permuted","text":"permutedhiddenunits",' || fail "compare --json permuted kind: $json"
echo "$json" | grep -q '"permuted":3,"permutations":1,"layers":\[{"units":4,"moved":4,"tensors":\[{"name":"b1","axis":0},{"name":"w1","axis":0},{"name":"w2","axis":1}\],"ntensors":3,"first":\[2,0,3,1\]}\]' ||
	fail "compare --json permuted layers: $json"
ok "compare relation: quantization, permuted units"

# compare on odd tensors: a scalar matches its [1] copy, a shape that
# differs is listed with both shapes, an all-zero tensor has no cosine and
# constant ones no Pearson, and the means say what they left out
Z4='\000\000\000\000'
st_write "$T/odd-a.safetensors" '{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"z":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}' \
	"$F2$F1$F2$Z4$Z4"
st_write "$T/odd-b.safetensors" '{"s":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"v":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]},"z":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}' \
	"$F4$F1$F2$F1$F2"
out=$("$MP_BIN" compare "$T/odd-a.safetensors" "$T/odd-b.safetensors")
echo "$out" | grep -Eq '^s +scalar +F32 +F32 +no +1 +constant +0$' || fail "compare [] vs [1]: $out"
echo "$out" | grep -Eq '^z +2 +F32 +F32 +no +all zero +constant +0$' || fail "compare all-zero tensor: $out"
echo "$out" | grep -q '^same name, different shape:$' && echo "$out" | grep -q '^  v  2 vs 1x2$' &&
	echo "$out" | grep -q '^2 tensors with the same name and shape, 0 only in A, 0 only in B, 1 with the same name and different shapes$' ||
	fail "compare: shape that differs not listed: $out"
echo "$out" | grep -Eq '^tensors +cosine +1  over 1 of 2 tensors, 1 undefined \(1 all zero\)$' ||
	fail "compare: cosine coverage: $out"
echo "$out" | grep -Eq '^tensors +pearson +undefined: every tensor in common is constant or not finite \(2 constant\)$' ||
	fail "compare: pearson undefined: $out"
json=$("$MP_BIN" compare --json "$T/odd-a.safetensors" "$T/odd-b.safetensors" | tr -d ' \t\n')
echo "$json" | grep -q '"shape_differs":\[{"name":"v","shape_a":\[2\],"shape_b":\[1,2\]}\]' ||
	fail "compare --json shape_differs: $json"
echo "$json" | grep -q '"reasons":{"tensors":{"pearson":"everytensorincommonisconstantornotfinite"}' ||
	fail "compare --json reasons: $json"
echo "$json" | grep -q '"cosine":null,"cosine_undefined":"allzero"' || fail "compare --json tensor reason: $json"
ok "compare odd tensors"

# long names keep their tail: two 60-character tensor names that differ only
# in their last character stay apart, and a long path keeps its file name
P=StatefulPartitionedCall/functional_1/tf_op_layer_Reshape_
hdr="{\"${P}1\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"${P}2\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
D="$T/a-directory-name-long-enough-to-overflow-the-model-column"
mkdir -p "$D"
st_write "$D/long.safetensors" "$hdr" "$F1$F2"
out=$("$MP_BIN" compare "$D/long.safetensors" "$D/long.safetensors")
echo "$out" | grep -q '^\.\.\..*Reshape_1 ' && echo "$out" | grep -q '^\.\.\..*Reshape_2 ' ||
	fail "long tensor names lost their tails: $out"
"$MP_BIN" fingerprint "$D/long.safetensors" | grep -q '^\.\.\..*/long\.safetensors  *safetensors' ||
	fail "long path lost its file name: $("$MP_BIN" fingerprint "$D/long.safetensors")"
ok "long names keep their tail"

# a folder of separate models: not one model in shards; --each takes each
mkdir -p "$T/folder/sub"
cp "$T/a.safetensors" "$T/folder/one.safetensors"
cp "$T/c.safetensors" "$T/folder/two.safetensors"
cp "$T/a.safetensors" "$T/folder/sub/model.safetensors"
printf 'notes' > "$T/folder/README.md"
rc=0; err=$("$MP_BIN" fingerprint "$T/folder" 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && [ "$(echo "$err" | wc -l)" = 1 ] &&
	echo "$err" | grep -q "folder: looks like several models, not one in shards: tensor 'w' is in both .*one.safetensors and .*two.safetensors; --each" ||
	fail "folder of models ($rc): $err"
out=$("$MP_BIN" fingerprint --each "$T/folder") || fail "--each exit $?"
# one.safetensors and sub/model.safetensors: 2 tensors, 6 params (model a);
# two.safetensors is model c: 2 tensors, 6 params; README.md is no model
[ "$(echo "$out" | grep -Ec 'safetensors +2 +6 +F32 100%')" = 3 ] &&
	[ "$(echo "$out" | wc -l)" = 4 ] || fail "--each rows: $out"
echo "$out" | sed -n 2p | grep -q '/folder/one\.safetensors ' &&
	echo "$out" | sed -n 3p | grep -q '/folder/sub ' || fail "--each order: $out"
mkdir -p "$T/tfjs-folder"
printf '{"modelTopology": {}, "weightsManifest": []}' > "$T/tfjs-folder/x.json"
printf '{"modelTopology": {}, "weightsManifest": []}' > "$T/tfjs-folder/y.json"
rc=0; err=$("$MP_BIN" fingerprint "$T/tfjs-folder" 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "tfjs-folder: not one model but a folder of 2 models; --each" ||
	fail "folder of TF.js models ($rc): $err"
rc=0; "$MP_BIN" fingerprint --each "$T/tfjs-folder" >/dev/null || rc=$?
[ $rc = 0 ] || fail "--each TF.js folder exit $rc"
ok "a folder of models, --each"

# the table fits the terminal (a pty of 80 columns), the full table when
# stdout is not a terminal (scripts) or with --wide
if command -v script >/dev/null; then
	pty() { CI=1 script -qec "stty cols $1; COLUMNS=$1 $2" /dev/null | tr -d '\r'; }
	out=$(pty 80 "'$MP_BIN' fingerprint --each '$T/folder'")
	w=$(echo "$out" | awk '{ if (length > w) w = length } END { print w }')
	[ "$w" -le 80 ] && [ "$(echo "$out" | wc -l)" = 4 ] || fail "80 columns: $w: $out"
	echo "$out" | grep -q SHA256 && fail "80 columns: SHA256 shown: $out"
	out=$(pty 80 "'$MP_BIN' fingerprint --wide --each '$T/folder'")
	echo "$out" | head -1 | grep -q ' SECONDS SHA256$' || fail "--wide: $out"
	out=$(pty 140 "'$MP_BIN' fingerprint --each '$T/folder'")
	echo "$out" | head -1 | grep -q ' SECONDS SHA256$' || fail "140 columns: $out"
	ok "the table fits the terminal"
fi
"$MP_BIN" fingerprint "$T/a.safetensors" | head -1 | grep -qx 'MODEL  *FORMAT      TENSORS       PARAMS DTYPES                 SECONDS SHA256' ||
	fail "header without a terminal"
[ "$("$MP_BIN" fingerprint "$T/a.safetensors" | head -1 | awk '{ print index($0, "FORMAT") }')" = 42 ] ||
	fail "MODEL is 40 columns without a terminal"
# --output-axis: a 4-D kernel [kh=2, kw=2, in=2, out=2] holding 1..16 in a
# TF.js model (output axis last) and the same bytes in a safetensors file
# that keeps TF.js's axis order (output axis first by default). Worked out
# here with awk from the 2x2 Gram matrix of each view: output-last rows are
# (1,3,..,15) and (2,4,..,16); output-first rows are (1..8) and (9..16).
f32() { # escapes of the float32 of each positive integer argument
	for n; do awk -v n="$n" 'BEGIN { e = 0; while (2 ^ (e + 1) <= n) e++
		b = (127 + e) * 2 ^ 23 + (n / 2 ^ e - 1) * 2 ^ 23
		for (k = 0; k < 4; k++) { printf "\\%03o", b % 256; b = int(b / 256) } }'; done
}
K=$(f32 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
mkdir -p "$T/ax"
printf "$K" > "$T/ax/w.bin"
printf '{"weightsManifest":[{"paths":["w.bin"],"weights":[{"name":"k","shape":[2,2,2,2],"dtype":"float32"}]}]}' > "$T/ax/model.json"
st_write "$T/ax/k.safetensors" '{"k":{"dtype":"F32","shape":[2,2,2,2],"data_offsets":[0,64]}}' "$K"
sv_of() { # the singular values of tensor k in a fingerprint, one per line
	tr -d ' \t\n' | sed 's/.*"sv":\[\([^]]*\)\].*/\1/' | tr ',' '\n'
}
gram_sv() { # singular values of the 2 x n matrix whose rows are $1 and $2
	awk -v r1="$1" -v r2="$2" 'BEGIN { n = split(r1, x, " "); split(r2, y, " ")
		for (i = 1; i <= n; i++) { a += x[i] * x[i]; b += x[i] * y[i]; d += y[i] * y[i] }
		m = (a + d) / 2; q = sqrt(((a - d) / 2) ^ 2 + b * b)
		printf "%.9g\n%.9g\n", sqrt(m + q), sqrt(m - q) }'
}
close() { # close A B: every line of file A within 1e-6 relative of file B's
	paste "$1" "$2" | awk 'NF != 2 { bad = 1 } { d = $1 - $2; if (d < 0) d = -d
		if (d > 1e-6 * ($2 < 0 ? -$2 : $2) + 1e-12) bad = 1 } END { exit bad || NR != 2 }'
}
gram_sv "1 3 5 7 9 11 13 15" "2 4 6 8 10 12 14 16" > "$T/ax/last.want"
gram_sv "1 2 3 4 5 6 7 8" "9 10 11 12 13 14 15 16" > "$T/ax/first.want"
"$MP_BIN" fingerprint --method spectral --json "$T/ax/model.json" | sv_of > "$T/ax/tfjs"
"$MP_BIN" fingerprint --method spectral --json "$T/ax/k.safetensors" | sv_of > "$T/ax/st"
"$MP_BIN" fingerprint --method spectral --output-axis last --json "$T/ax/k.safetensors" | sv_of > "$T/ax/st-last"
"$MP_BIN" fingerprint --method spectral --output-axis first --json "$T/ax/model.json" | sv_of > "$T/ax/tfjs-first"
close "$T/ax/tfjs" "$T/ax/last.want" || fail "TF.js spectral: $(cat "$T/ax/tfjs") vs $(cat "$T/ax/last.want")"
close "$T/ax/st" "$T/ax/first.want" || fail "safetensors spectral: $(cat "$T/ax/st")"
close "$T/ax/st" "$T/ax/last.want" && fail "TF.js order read output-first should differ"
close "$T/ax/st-last" "$T/ax/last.want" || fail "--output-axis last: $(cat "$T/ax/st-last")"
close "$T/ax/tfjs-first" "$T/ax/first.want" || fail "--output-axis first on TF.js: $(cat "$T/ax/tfjs-first")"
"$MP_BIN" fingerprint --method spectral --output-axis last --json "$T/ax/k.safetensors" |
	tr -d ' \t\n' | grep -q '"args":{"output_axis":"last"}' || fail "--output-axis not recorded in args"
"$MP_BIN" fingerprint --method spectral --arg output_axis=last --json "$T/ax/k.safetensors" | sv_of > "$T/ax/st-arg"
cmp -s "$T/ax/st-arg" "$T/ax/st-last" || fail "--arg output_axis=last differs from --output-axis last"
err=$("$MP_BIN" fingerprint --method spectral --output-axis middle "$T/ax/k.safetensors" 2>&1) &&
	fail "--output-axis middle accepted"
echo "$err" | grep -q "output-axis needs first or last, got 'middle'" || fail "--output-axis middle: $err"
err=$("$MP_BIN" fingerprint --output-axis last "$T/ax/k.safetensors" 2>&1) && fail "--output-axis with tensors accepted"
echo "$err" | grep -q "applies to --method spectral only" || fail "--output-axis with tensors: $err"
err=$("$MP_BIN" fingerprint --method spectral --arg output_axis=up "$T/ax/k.safetensors" 2>&1) &&
	fail "output_axis=up accepted"
echo "$err" | grep -q 'output_axis must be "first" or "last"' || fail "output_axis=up: $err"
ok "--output-axis last reads a safetensors copy in TF.js order like the TF.js model"
# scale: 200,000 empty tensors in one header cost memory for what they hold
# (a name, a shape, an offset), not KBs each; 200,000 TF.js weights open in
# seconds (the name index, no linear search per weight)
N=200000
awk -v n=$N 'BEGIN { printf "{"; for (i = 0; i < n; i++)
	printf "%s\"t%07d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
		(i ? "," : ""), i; printf "}" }' > "$T/hdr.json"
{ le64 "$(wc -c < "$T/hdr.json")"; cat "$T/hdr.json"; } > "$T/empty.safetensors"
# 640 bytes per tensor, for the fingerprint and for --json -o (measured
# about 470; was 3.5 KB, then 727, and 7 KB for --json); ASan's redzones
# and quarantine get more
per=640
case "$(ldd "$MP_BIN" 2>/dev/null)" in *libasan*) per=1536 ;; esac
# rss_bound WHAT OUT ARGS...: fingerprint ARGS into OUT within the bound
rss_bound() {
	what=$1 out=$2
	shift 2
	t0=$(date +%s)
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16" \
		/usr/bin/time -f %M -o "$T/rss" timeout 120 "$MP_BIN" fingerprint \
		--threads 2 "$@" > "$out" || fail "$what of $N empty tensors failed"
	rss=$(tail -n 1 "$T/rss")
	echo "$what of $N empty tensors: peak RSS ${rss} KB, $(( $(date +%s) - t0 )) s"
	[ "$rss" -lt $((N * per / 1024)) ] ||
		fail "$what of $N empty tensors took $rss KB (bound $((N * per / 1024)) KB)"
}
if [ -x /usr/bin/time ]; then
	rss_bound fingerprint "$T/out" "$T/empty.safetensors"
	grep -Eq "safetensors +$N +0 " "$T/out" || fail "empty tensors: $(cat "$T/out")"
	# the JSON is written as it is produced, not built as a tree first
	rss_bound "fingerprint --json -o" "$T/out.json" --json \
		-o "$T/o.json" "$T/empty.safetensors"
	python3 - "$T/out.json" "$T/o.json" <<'PY' || fail "--json of $N empty tensors"
import json, sys
for p in sys.argv[1:]:
    with open(p, encoding="utf-8") as f:
        fps = json.load(f)["fingerprints"]
    assert len(fps) == 1, p
    ts = fps[0]["tensors"]
    assert len(ts) == 200000, (p, len(ts))
    assert ts[0]["name"] == "t0000000" and ts[-1]["name"] == "t0199999", p
    assert ts[7]["shape"] == [0] and ts[7]["stats"]["n"] == 0, p
    assert ts[7]["stats"]["mean"] is None and "sketch" not in ts[7], p
PY
else
	echo "skip: no /usr/bin/time for the RSS bound"
fi
mkdir -p "$T/tfjs"
awk -v n=$N 'BEGIN { printf "{\"weightsManifest\":[{\"paths\":[\"g.bin\"],\"weights\":[";
	for (i = 0; i < n; i++)
		printf "%s{\"name\":\"layer/w%d\",\"shape\":[1],\"dtype\":\"int32\"}",
			(i ? "," : ""), i; printf "]}]}" }' > "$T/tfjs/model.json"
head -c $((N * 4)) /dev/zero > "$T/tfjs/g.bin"
t0=$(date +%s)
out=$(timeout 60 "$MP_BIN" fingerprint --threads 2 "$T/tfjs/model.json") ||
	fail "$N TF.js weights: not done in 60 s"
echo "$N TF.js weights: $(( $(date +%s) - t0 )) s"
echo "$out" | grep -Eq "tfjs +$N +$N +I32 100%" || fail "TF.js weights: $out"
# the last of them repeating the first is still found
sed 's/"layer\/w199999"/"layer\/w0"/' "$T/tfjs/model.json" > "$T/tfjs/dup.json"
rc=0; err=$(timeout 60 "$MP_BIN" fingerprint "$T/tfjs/dup.json" 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "dup.json: weight 'layer/w0' is listed twice" ||
	fail "repeated TF.js weight: rc $rc: $err"
# 200,000 float32 weights of small shapes: each costs time in proportion to
# its values (it took ~1 ms, 200 s for all, when every one scanned 65,536
# histogram buckets); stats of three of them against the numpy formulas
mkdir -p "$T/tiny"
python3 - "$T/tiny" $N <<'PY'
import json, random, struct, sys
d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(5)
shapes = [[1], [3], [8], [2, 2]]
ws, vals = [], []
for i in range(n):
    s = shapes[i % 4]
    ws.append({"name": "layer/b%d" % i, "shape": s, "dtype": "float32"})
    vals.extend(rnd.gauss(0, 1) for _ in range(s[0] * (s[1] if len(s) > 1 else 1)))
json.dump({"weightsManifest": [{"paths": ["g.bin"], "weights": ws}]},
          open(d + "/model.json", "w"))
open(d + "/g.bin", "wb").write(struct.pack("<%df" % len(vals), *vals))
PY
t0=$(date +%s)
out=$(timeout 60 "$MP_BIN" fingerprint --threads 2 "$T/tiny/model.json") ||
	fail "$N float32 TF.js weights: not done in 60 s"
echo "$N float32 TF.js weights: $(( $(date +%s) - t0 )) s"
echo "$out" | grep -Eq "tfjs +$N +$((N / 4 * 16)) +F32 100%" ||
	fail "float32 TF.js weights: $out"
# three of them, the same bytes of g.bin between int32 fillers (the JSON
# of all 200,000 would take longer than computing it)
python3 - "$T/tiny" <<'PY'
import json, sys
d = sys.argv[1]
ws, at = [], 0
for i in (5, 102, 199999):
    off = i // 4 * 16 + [0, 1, 4, 12][i % 4]
    if off > at:
        ws.append({"name": "fill%d" % i, "shape": [off - at], "dtype": "int32"})
    ws.append({"name": "layer/b%d" % i, "shape": [[1], [3], [8], [2, 2]][i % 4],
               "dtype": "float32"})
    at = off + [1, 3, 8, 4][i % 4]
json.dump({"weightsManifest": [{"paths": ["g.bin"], "weights": ws}]},
          open(d + "/pick.json", "w"))
PY
"$MP_BIN" fingerprint -o "$T/tiny/fp.json" "$T/tiny/pick.json" >/dev/null ||
	fail "float32 TF.js weights: three of them"
python3 - "$T/tiny" <<'PY' || fail "float32 TF.js weights: statistics"
import json, math, struct, sys
d = sys.argv[1]
raw = open(d + "/g.bin", "rb").read()
got = {t["name"]: t["stats"] for t in
       json.load(open(d + "/fp.json"))["fingerprints"][0]["tensors"]
       if "stats" in t}
def pct(s, p):  # numpy.percentile, linear interpolation
    pos = p * (len(s) - 1); lo = math.floor(pos); t = pos - lo
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * t
def med(s):
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
bad = 0
# weight i starts after i // 4 groups of 1 + 3 + 8 + 4 values
for i in (5, 102, 199999):
    size = [1, 3, 8, 4][i % 4]
    off = i // 4 * 16 + [0, 1, 4, 12][i % 4]
    x = list(struct.unpack_from("<%df" % size, raw, 4 * off))
    s = sorted(x); n = len(x); mean = math.fsum(x) / n
    m = med(s); k = max(1, n // 10)
    want = {"mean": mean, "min": s[0], "max": s[-1], "median": m,
            "q25": pct(s, 0.25), "q75": pct(s, 0.75),
            "mad": med(sorted(abs(v - m) for v in x)),
            "std": math.sqrt(math.fsum((v - mean) ** 2 for v in x) / n),
            "l1_norm": math.fsum(abs(v) for v in x),
            "energy_concentration": math.fsum(sorted(v * v for v in x)[-k:]) /
                                    math.fsum(v * v for v in x)}
    for f, w in want.items():
        g = got["layer/b%d" % i][f]
        if abs(g - w) > 1e-12 * max(1.0, abs(w)):
            print("layer/b%d %s: got %r want %r" % (i, f, g, w)); bad = 1
sys.exit(bad)
PY
# 200,000 metadata keys: each is looked up in an index, not in a list
awk -v n=$N 'BEGIN { printf "{\"__metadata__\":{"; for (i = 0; i < n; i++)
	printf "%s\"k%d\":\"v\"", (i ? "," : ""), i
	printf "},\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}" }' > "$T/hdr.json"
{ le64 "$(wc -c < "$T/hdr.json")"; cat "$T/hdr.json"; printf x; } > "$T/meta.safetensors"
out=$(timeout 60 "$MP_BIN" fingerprint "$T/meta.safetensors") ||
	fail "$N metadata keys: not done in 60 s"
echo "$out" | grep -Eq "safetensors +1 +1 +U8" || fail "metadata keys: $out"
ok "scale: many tiny tensors and weights"
# --arch: a GPT-2 skeleton (vocabulary and context of GPT-2, hidden 8, two
# layers, under transformer.) has 2*6 + 3 = 15 required tensors
python3 - "$T/gpt2.safetensors" <<'PY'
import json, struct, sys
H = 8
t = [("transformer.wte.weight", [50257, H]), ("transformer.wpe.weight", [1024, H]),
     ("transformer.ln_f.weight", [H])]
for i in range(2):
    p = "transformer.h.%d." % i
    t += [(p + "ln_1.weight", [H]), (p + "attn.c_attn.weight", [H, 3 * H]),
          (p + "attn.c_proj.weight", [H, H]), (p + "ln_2.weight", [H]),
          (p + "mlp.c_fc.weight", [H, 4 * H]), (p + "mlp.c_proj.weight", [4 * H, H])]
t += [("lora.%d.up" % i, [2]) for i in range(3)]
hdr, off = {}, 0
for n, sh in t:
    k = 2
    for d in sh: k *= d
    hdr[n] = {"dtype": "F16", "shape": sh, "data_offsets": [off, off + k]}; off += k
h = json.dumps(hdr).encode(); h += b" " * (-len(h) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + bytes(off))
PY
out=$("$MP_BIN" fingerprint "$T/gpt2.safetensors") || fail "fingerprint gpt2"
echo "$out" | grep -q architecture && fail "architecture without --arch: $out"
out=$("$MP_BIN" fingerprint --arch "$T/gpt2.safetensors") || fail "--arch gpt2"
echo "$out" | grep -qx '  architecture: GPT-2 (gpt2): hidden 8, 2 layers; coverage 100.0% (15 of 15)' ||
	fail "--arch gpt2: $out"
echo "$out" | grep -qx '  extra: lora.{0..2}.up (3)' || fail "--arch extra: $out"
"$MP_BIN" fingerprint --arch --json "$T/gpt2.safetensors" | python3 -c '
import json, sys
a = json.load(sys.stdin)["fingerprints"][0]["architecture"]
assert (a["name"], a["layers"], a["hidden"], a["coverage"]) == ("GPT-2", 2, 8, 1), a
assert a["extra"] == [{"pattern": "lora.{0..2}.up", "count": 3}], a' || fail "--arch --json"
model_a "$T/a.safetensors"
out=$("$MP_BIN" fingerprint --arch "$T/a.safetensors") || fail "--arch a"
echo "$out" | grep -q '^  architecture: unknown' || fail "--arch unknown: $out"
printf '{"format": "modelprint-architectures", "architectures": [{"name": "X", "family": "x", "require": ["a.{i"]}]}' > "$T/sigs.json"
rc=0; err=$("$MP_BIN" fingerprint --signatures "$T/sigs.json" "$T/a.safetensors" 2>&1 >/dev/null) || rc=$?
[ $rc = 1 ] && [ $(echo "$err" | wc -l) = 1 ] &&
	echo "$err" | grep -q "sigs.json: architecture 0 (X): require\[0\] has a '{' not closed" ||
	fail "broken signatures ($rc): $err"
ok "fingerprint --arch"
finish
