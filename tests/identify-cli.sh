#!/bin/sh
# tests/identify-cli.sh — modelprint identify from the command line:
# usage, references from files and from a registry (registry add
# --fingerprint), text and JSON verdicts, and the bad inputs: an empty
# registry, a missing unknown, an unknown without floating tensors, a
# reference whose file is gone, two references with the same id.
. "$MP_SRCDIR/tests/lib.sh"
MP=$MP_BIN

# P, Q: unrelated random models; ft: P plus small noise; rnd: fresh random
python3 - "$T" <<'PY'
import json, random, struct, sys
d = sys.argv[1]
shapes = {"a.w": (24, 16), "a.b": (24,), "b.w": (8, 24)}
def model(seed, base=None, noise=0.0):
    r = random.Random(seed)
    out = {}
    for k, s in shapes.items():
        n = 1
        for x in s: n *= x
        if base is None:
            out[k] = [r.gauss(0, 0.1) for _ in range(n)]
        else:
            out[k] = [v + r.gauss(0, noise) for v in base[k]]
    return out
def save(path, m):
    hdr, off, data = {}, 0, b""
    for k, s in shapes.items():
        b = struct.pack("<%df" % len(m[k]), *m[k])
        hdr[k] = {"dtype": "F32", "shape": list(s), "data_offsets": [off, off + len(b)]}
        off += len(b); data += b
    h = json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
P = model(1); Q = model(2)
save(d + "/P.safetensors", P); save(d + "/Q.safetensors", Q)
save(d + "/ft.safetensors", model(3, P, 0.005))
save(d + "/rnd.safetensors", model(4))
PY

rc=0; "$MP" identify --help >/dev/null || rc=$?
[ $rc = 0 ] || fail "identify --help: exit $rc"
rc=0; "$MP" identify >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "identify without arguments: exit $rc"
rc=0; "$MP" identify "$T/ft.safetensors" --against "$T/r" "$T/P.safetensors" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "identify --against with files: exit $rc"
ok "identify usage"

# references as files: text and JSON
out=$("$MP" identify "$T/ft.safetensors" "$T/P.safetensors" "$T/Q.safetensors") ||
	fail "identify files: exit $?"
echo "$out" | grep -q '^verdict: the unknown is most likely a fine-tune of P.safetensors' ||
	fail "identify text verdict: $out"
echo "$out" | grep -q '^relation: fine-tune, from the files: ' || fail "identify text relation: $out"
"$MP" identify --json "$T/ft.safetensors" "$T/P.safetensors" "$T/Q.safetensors" > "$T/ft.json" ||
	fail "identify --json: exit $?"
python3 - "$T/ft.json" "$T/P.safetensors" <<'PY' || fail "identify --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"]["match"] is True, d["verdict"]
assert d["verdict"]["id"] == sys.argv[2], d["verdict"]
assert d["relation"]["kind"] == "finetune", d["relation"]
assert d["relation"]["parent"] == sys.argv[2]
assert d["references"] == 2 and d["compatible"] == 2
assert d["ranking"][0]["id"] == sys.argv[2] and d["ranking"][0]["rank"] == 1
assert d["ranking"][0]["pearson"] > 0.99 and d["ranking"][1]["pearson"] < 0.3
assert d["selection"]["mode"] == "equal" and len(d["selection"]["tensors"]) == 3
assert d["unknown"]["tensors"] == 3 and d["unknown"]["params"] == 24*16+24+8*24
PY
ok "identify against files"

out=$("$MP" identify --json "$T/rnd.safetensors" "$T/P.safetensors" "$T/Q.safetensors") ||
	fail "identify unrelated: exit $?"
echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["verdict"]["match"] is False and d["verdict"]["id"] is None, d["verdict"]
assert d["relation"]["kind"] == "unrelated", d["relation"]' || fail "unrelated verdict: $out"
ok "identify: no parent for unrelated weights"

# a fingerprint file as the unknown (sketches only)
"$MP" fingerprint -o "$T/ft.fp.json" "$T/ft.safetensors" >/dev/null || fail "fingerprint -o"
out=$("$MP" identify "$T/ft.fp.json" "$T/P.safetensors" "$T/Q.safetensors") || fail "identify a fingerprint: exit $?"
echo "$out" | grep -q '^relation: fine-tune, from the sketches: ' || fail "identify a fingerprint: $out"
rc=0; err=$("$MP" identify --exact "$T/ft.fp.json" "$T/P.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'ft.fp.json: --exact needs the model' || fail "--exact on a fingerprint: $rc $err"
ok "identify a fingerprint file"

# registry: empty, then references with fingerprints
R="$T/r"
rc=0; err=$("$MP" identify "$T/ft.safetensors" --against "$R" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'no registered model has a tensors fingerprint' ||
	fail "empty registry: $rc $err"
cp "$T/P.safetensors" "$T/P2.safetensors"
"$MP" registry --registry "$R" add "$T/P2.safetensors" --name P --fingerprint >/dev/null || fail "add P"
"$MP" registry --registry "$R" add "$T/Q.safetensors" --name Q --fingerprint >/dev/null || fail "add Q"
"$MP" registry --registry "$R" add "$T/rnd.safetensors" --name nofp >/dev/null || fail "add nofp"
"$MP" registry --registry "$R" show 1 | grep -q tensors || fail "registry add --fingerprint stored nothing"
out=$("$MP" identify "$T/ft.safetensors" --against "$R" 2>"$T/err") || fail "identify --against: exit $?"
echo "$out" | grep -q '^verdict: the unknown is most likely a fine-tune of P ' || fail "registry verdict: $out"
grep -q '1 registered model without a tensors fingerprint left out' "$T/err" || fail "no warning: $(cat "$T/err")"
# the reference's file gone: a warning naming it, the verdict from sketches
rm "$T/P2.safetensors"
out=$("$MP" identify "$T/ft.safetensors" --against "$R" 2>"$T/err") || fail "identify, file gone: exit $?"
echo "$out" | grep -q '^relation: fine-tune, from the sketches' || fail "file gone relation: $out"
grep -q "warning: reference 1 (P): .*P2.safetensors" "$T/err" || fail "file gone warning: $(cat "$T/err")"
rc=0; err=$("$MP" identify --exact "$T/ft.safetensors" --against "$R" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'P2.safetensors' || fail "--exact, file gone: $rc $err"
ok "identify against a registry"

# the direction, near ties, partial copies, tensors renamed in order
python3 - "$T" <<'PY'
import json, random, struct, sys
d = sys.argv[1]
def read(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = []
    for k, v in h.items():
        s, e = v["data_offsets"]
        raw = b[8 + n + s:8 + n + e]
        out.append((k, v["shape"], list(struct.unpack("<%df" % (len(raw) // 4), raw))))
    return out
def save(path, ts, dt="F32"):
    hdr, off, data = {}, 0, b""
    for k, shape, vals in ts:
        if dt == "F16":
            b = struct.pack("<%de" % len(vals), *vals)
        elif dt == "BF16":
            u = struct.unpack("<%dI" % len(vals), struct.pack("<%df" % len(vals), *vals))
            b = struct.pack("<%dH" % len(vals), *[((x + 0x7fff + ((x >> 16) & 1)) >> 16) & 0xffff for x in u])
        else:
            b = struct.pack("<%df" % len(vals), *vals)
        hdr[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b); data += b
    h = json.dumps(hdr).encode(); h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
P = read(d + "/P.safetensors")
save(d + "/P16.safetensors", P, "F16")
save(d + "/PB.safetensors", P, "BF16")
save(d + "/part.safetensors", P[:2])
r = random.Random(9)
save(d + "/moved.safetensors",
     [("x%d" % i, shape, [v + r.gauss(0, 0.1) for v in vals]) for i, (k, shape, vals) in enumerate(P)])
PY
out=$("$MP" identify "$T/P.safetensors" "$T/P16.safetensors") || fail "identify reversed: exit $?"
echo "$out" | grep -q '^verdict: the unknown is most likely the original of P16.safetensors (P16.safetensors is its dtype conversion)' ||
	fail "reversed dtype conversion: $out"
out=$("$MP" identify --json "$T/PB.safetensors" "$T/P16.safetensors" "$T/P.safetensors") || fail "identify near tie: exit $?"
echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["relation"]["kind"] == "dtype" and d["verdict"]["id"].endswith("/P.safetensors"), d["relation"]
assert d["relation"]["reversed"] is False' || fail "near tie: $out"
out=$("$MP" identify "$T/part.safetensors" "$T/P.safetensors") || fail "identify part: exit $?"
echo "$out" | grep -q '^verdict: the unknown is a partial copy of P.safetensors' || fail "partial copy: $out"
st_write "$T/ints.safetensors" '{"ids":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}' \
	'\001\000\000\000\002\000\000\000'
out=$("$MP" identify --json "$T/moved.safetensors" "$T/P.safetensors" "$T/ints.safetensors" 2>/dev/null) ||
	fail "identify renamed by position: exit $?"
echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d["relation"]
assert r["kind"] == "renamed" and "by position" in r["evidence"], r
assert sorted((m["from"], m["to"]) for m in r["renames"]) == [("x0", "a.w"), ("x1", "a.b"), ("x2", "b.w")], r["renames"]
assert d["ranking"][1]["compatible"] is False and d["ranking"][1]["final"] is None, d["ranking"][1]' ||
	fail "renamed by position: $out"
ok "identify: direction, near ties, partial copies, renamed in order"

# bad input
rc=0; err=$("$MP" identify "$T/nope.safetensors" "$T/P.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'nope.safetensors' || fail "missing unknown: $rc $err"
st_write "$T/ints.safetensors" '{"ids":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}' \
	'\001\000\000\000\002\000\000\000'
rc=0; err=$("$MP" identify "$T/ints.safetensors" "$T/P.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'ints.safetensors: no floating tensor to identify' ||
	fail "no floating tensor: $rc $err"
rc=0; err=$("$MP" identify "$T/ft.safetensors" "$T/P.safetensors" "$T/P.safetensors" 2>&1) || rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'two references have the id' || fail "same id twice: $rc $err"
ok "identify bad input"
finish
