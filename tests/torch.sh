#!/bin/sh
# tests/torch.sh — PyTorch checkpoints end to end: the committed fixtures of
# tests/torch fingerprinted (tensor counts and parameters from oracle.json,
# which torch wrote), a sharded index, a `run` over two registered
# checkpoints; every malicious file of the scanner's suite and payloads
# written here (a pickle whose reduce would `touch` a marker, plain and in a
# torch.save zip) run through the CLI in a scratch directory: a non-zero
# exit, one error line naming the refused global, nothing printed on
# stdout, and no file appearing in the scratch directory or /tmp; the
# hostile corners one clear error line each.
. "$MP_SRCDIR/tests/lib.sh"
P=/usr/bin/python3
[ -x "$P" ] || { echo "SKIP: no /usr/bin/python3"; exit 77; }
TD="$MP_SRCDIR/tests/torch"
FX="${MP_FIXTURES:-$MP_SRCDIR/../shared/fixtures}/pickle"
[ -d "$FX" ] || { echo "FAIL: no scanner fixtures in $FX"; exit 1; }

# fingerprints agree with the oracle on tensors and parameters
for f in dtypes.pt nested.pt ordered.pt views.pt legacy.pt plain2.pkl \
	plain4.pkl deflated.pt wrap_model.pt sharded/pytorch_model.bin.index.json; do
	"$MP_BIN" fingerprint --json "$TD/$f" > "$T/fp.json" 2> "$T/err" ||
		{ fail "$f: $(cat "$T/err")"; continue; }
	"$P" - "$TD/oracle.json" "$f" "$T/fp.json" <<'PY' || fail "$f against the oracle"
import json, math, sys
o = json.load(open(sys.argv[1]))[sys.argv[2]]
fp = json.load(open(sys.argv[3]))["fingerprints"][0]
assert fp["format"] == "pytorch", fp["format"]
got = {t["name"]: t for t in fp["tensors"]}
assert set(got) == set(o), (sorted(got), sorted(o))
for k, v in o.items():
    assert got[k]["shape"] == v["shape"], (k, got[k]["shape"], v["shape"])
    assert got[k]["stored_dtype"] == v["dtype"], k
assert fp["params"] == sum(math.prod(v["shape"]) for v in o.values())
PY
done
ok "fingerprints of the fixtures"

# the directory of a sharded checkpoint opens through its index
"$MP_BIN" fingerprint "$TD/sharded" > "$T/out" 2>&1 || fail "sharded dir: $(cat "$T/out")"
grep -q "pytorch *3 *12 " "$T/out" || fail "sharded dir: $(cat "$T/out")"

# run over two registered checkpoints: the same weights, zip and legacy
R="$T/reg"
"$MP_BIN" registry --registry "$R" add "$TD/dtypes.pt" --name zip --force >/dev/null || fail "add zip"
"$MP_BIN" registry --registry "$R" add "$TD/deflated.pt" --name deflated --force >/dev/null || fail "add deflated"
printf '{"models": ["1", "2"], "methods": ["tensors"], "metrics": ["exact", "cosine"]}' > "$T/cfg.json"
"$MP_BIN" run --config "$T/cfg.json" --registry "$R" --global-registry "$R" \
	--output-dir "$T/out-run" > "$T/run.out" 2>&1 || fail "run: $(cat "$T/run.out")"
"$P" - "$T/out-run/similarity_matrices.json" <<'PY' || fail "run: stored and deflated archives not identical"
import json, sys
d = json.load(open(sys.argv[1]))
def find(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "exact":
                return v
            r = find(v)
            if r is not None:
                return r
    if isinstance(x, list):
        for v in x:
            r = find(v)
            if r is not None:
                return r
m = find(d)
vals = m["values"] if isinstance(m, dict) and "values" in m else m
assert vals[0][1] == 1 or vals[0][1] == 1.0, vals
PY
ok "run over registered checkpoints"

# payloads that would create files, written here without running them
mkdir -p "$T/scratch"
"$P" - "$T/scratch" <<'PY'
import io, os, pickle, sys, zipfile
d = sys.argv[1]
class Touch:
    def __reduce__(self):
        return (os.system, ("touch /tmp/modelprint-pwned-marker " + d + "/pwned",))
pickle.dump({"w": Touch()}, open(d + "/payload.pkl", "wb"), protocol=2)
b = pickle.dumps(Touch(), protocol=4)
with zipfile.ZipFile(d + "/payload.pt", "w") as z:
    z.writestr("archive/data.pkl", b)
    z.writestr("archive/version", "3\n")
PY
cp "$FX"/malicious* "$FX"/broken_model.pkl "$T/scratch/"
before=$(cd "$T/scratch" && ls -a | sort | tr '\n' ' ')
rm -f /tmp/modelprint-pwned-marker
for f in "$T"/scratch/*; do
	b=$(basename "$f")
	case "$b" in
	payload.*) g=posix.system ;;
	malicious0.pkl) g=__builtin__.globals ;;
	malicious1.zip|malicious1_v3.pkl|malicious1_v4.pkl) g=builtins.eval ;;
	malicious1_v0.pkl) g=__builtin__.eval ;;
	malicious2_*) g=posix.system ;;
	malicious3.pkl) g=httplib.HTTPSConnection ;;
	malicious4.pickle) g=requests.api.get ;;
	malicious5.pickle) g=aiohttp.client.ClientSession ;;
	broken_model.pkl) g=builtins.exec ;;
	esac
	rc=0
	(cd "$T/scratch" && "$MP_BIN" fingerprint "$b") > "$T/out" 2> "$T/err" || rc=$?
	[ $rc -ne 0 ] || fail "$b: exit 0"
	[ ! -s "$T/out" ] || fail "$b: printed on stdout: $(cat "$T/out")"
	[ "$(wc -l < "$T/err")" -eq 1 ] || fail "$b: not one error line: $(cat "$T/err")"
	grep -q "refused global '$g'" "$T/err" || fail "$b: $(cat "$T/err")"
	grep -q "$b" "$T/err" || fail "$b: file not named: $(cat "$T/err")"
done
after=$(cd "$T/scratch" && ls -a | sort | tr '\n' ' ')
[ "$before" = "$after" ] || fail "scratch directory changed: $before -> $after"
for m in /tmp/modelprint-pwned-marker /tmp/my_file.txt "$T/scratch/my_file.txt" "$T/scratch/pwned"; do
	[ ! -e "$m" ] || fail "payload ran: $m exists"
done
ok "malicious files refused, nothing run"

# hostile corners: one clear error line naming the file
for c in "past-storage:reach past its storage" "big-stride:reach past its storage" \
	"missing-key:storage '7' is missing from the archive" \
	"huge-shape:overflows 64 bits" "deep:beyond the limits" \
	"complex:torch.ComplexFloatStorage" "truncated:not a zip archive" \
	"truncated-legacy:truncated"; do
	f="$TD/hostile-${c%%:*}.pt" want=${c#*:}
	rc=0
	"$MP_BIN" fingerprint "$f" > "$T/out" 2> "$T/err" || rc=$?
	[ $rc -ne 0 ] || fail "$f: exit 0"
	[ "$(wc -l < "$T/err")" -eq 1 ] || fail "$f: not one error line: $(cat "$T/err")"
	grep -q "$want" "$T/err" && grep -q "hostile-${c%%:*}.pt" "$T/err" ||
		fail "$f: want '$want': $(cat "$T/err")"
done
ok "hostile corners"
finish
