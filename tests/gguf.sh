#!/bin/sh
# tests/gguf.sh — GGUF files end to end on the fixtures
# (../shared/fixtures/gguf): `fingerprint` shows the GGUF metadata and the
# stored ggml types; its JSON keeps, per tensor, the SHA-256 of the stored
# bytes (recomputed here by python3 from the file's own tensor table) and
# statistics of the dequantized values (against the ggml oracle's sums);
# `compare` of two GGUFs.
. "$MP_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
F=${MP_FIXTURES:-$MP_SRCDIR/../shared/fixtures}/gguf
[ -f "$F/model-q4_0.gguf" ] || { echo "FAIL: no fixtures in $F"; exit 1; }

"$MP_BIN" fingerprint "$F/model-q4_0.gguf" >"$T/out" 2>"$T/err" ||
	fail "fingerprint q4_0: $(cat "$T/err")"
for want in 'gguf ' 'Q4_0 100%' '  general.architecture: llama' \
	'  general.name: modelprint fixture llama' '  general.file_type: 2' \
	'  tokenizer.ggml.vocab_size: 1024'; do
	grep -F -q -- "$want" "$T/out" && ok "fingerprint shows '$want'" ||
		fail "fingerprint lacks '$want': $(cat "$T/out")"
done

for q in q4_0 q8_0 f16; do
	"$MP_BIN" fingerprint --json -o "$T/$q.json" "$F/model-$q.gguf" \
		>/dev/null 2>"$T/err" || fail "fingerprint --json $q: $(cat "$T/err")"
	if python3 - "$F/model-$q.gguf" "$T/$q.json" "$F/model-$q.dequant.jsonl" \
		>"$T/py" 2>&1 <<'PY'
import hashlib, json, struct, sys
gguf, fpj, oracle = sys.argv[1:]
b = open(gguf, "rb").read()
pos = 24
nt, nkv = struct.unpack_from("<QQ", b, 8)
SZ = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
def skip(t):
    global pos
    if t == 8:
        n, = struct.unpack_from("<Q", b, pos); pos += 8 + n
    elif t == 9:
        et, n = struct.unpack_from("<IQ", b, pos); pos += 12
        for _ in range(n): skip(et)
    else:
        pos += SZ[t]
align = 32
for _ in range(nkv):
    n, = struct.unpack_from("<Q", b, pos); key = b[pos + 8:pos + 8 + n].decode(); pos += 8 + n
    t, = struct.unpack_from("<I", b, pos); pos += 4
    if key == "general.alignment": align = struct.unpack_from("<I", b, pos)[0]
    skip(t)
# (block values, block bytes) of the types used here
BLK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34)}
NAME = {0: "F32", 1: "F16", 2: "Q4_0", 8: "Q8_0"}
infos = []
for _ in range(nt):
    n, = struct.unpack_from("<Q", b, pos); name = b[pos + 8:pos + 8 + n].decode(); pos += 8 + n
    nd, = struct.unpack_from("<I", b, pos); pos += 4
    dims = struct.unpack_from("<%dQ" % nd, b, pos); pos += 8 * nd
    t, off = struct.unpack_from("<IQ", b, pos); pos += 12
    infos.append((name, dims, t, off))
data = (pos + align - 1) // align * align
fp = json.load(open(fpj))["fingerprints"][0]
tens = {t["name"]: t for t in fp["tensors"]}
orc = {o["name"]: o for o in map(json.loads, open(oracle))}
bad = 0
for name, dims, t, off in infos:
    n = 1
    for d in dims: n *= d
    blk, by = BLK[t]
    raw = b[data + off:data + off + n // blk * by]
    ft = tens[name]
    if ft["sha256"] != hashlib.sha256(raw).hexdigest(): print("sha", name); bad += 1
    if ft["stored_dtype"] != NAME[t]: print("type", name, ft["stored_dtype"]); bad += 1
    if ft["shape"] != list(reversed(dims)): print("shape", name); bad += 1
    mean = orc[name]["sum"] / n
    if abs(ft["stats"]["mean"] - mean) > 1e-9 + 1e-6 * abs(mean): print("mean", name, ft["stats"]["mean"], mean); bad += 1
print("checked", len(infos))
sys.exit(1 if bad else 0)
PY
	then ok "$q: stored-byte SHA-256, types, shapes, means: $(cat "$T/py")"
	else fail "$q: $(cat "$T/py")"
	fi
done

# compare: a model with itself is identical; f32 against its f16 conversion
# correlates nearly perfectly
"$MP_BIN" compare "$F/model-q8_0.gguf" "$F/model-q8_0.gguf" >"$T/cmp" 2>"$T/err" ||
	fail "compare q8_0 q8_0: $(cat "$T/err")"
grep -q '^tensors *exact *1$' "$T/cmp" && ok "compare: q8_0 with itself exact 1" ||
	fail "compare q8_0 with itself: $(cat "$T/cmp")"
"$MP_BIN" compare "$F/model-f32.gguf" "$F/model-f16.gguf" >"$T/cmp" 2>"$T/err" ||
	fail "compare f32 f16: $(cat "$T/err")"
c=$(awk '$1 == "tensors" && $2 == "cosine" { print $3 }' "$T/cmp")
python3 -c "import sys; sys.exit(0 if float('$c') > 0.99999 else 1)" &&
	ok "compare f32 f16: cosine $c" || fail "compare f32 f16: cosine $c"

# compare's tensor rows name the types as stored (Q4_0, Q8_0, not the F32
# of the decoded values): those of the tensor tables read above
"$MP_BIN" compare --json "$F/model-q4_0.gguf" "$F/model-q8_0.gguf" >"$T/cmp.json" 2>"$T/err" ||
	fail "compare q4_0 q8_0: $(cat "$T/err")"
if python3 - "$T/cmp.json" "$T/q4_0.json" "$T/q8_0.json" >"$T/py" 2>&1 <<'PY'
import json, sys
c, a, b = (json.load(open(p)) for p in sys.argv[1:])
ta, tb = ({t["name"]: t["stored_dtype"] for t in f["fingerprints"][0]["tensors"]} for f in (a, b))
rows = c["tensors"]
assert len(rows) == len(ta) == 21, len(rows)
for r in rows:
    assert (r["dtype_a"], r["dtype_b"]) == (ta[r["name"]], tb[r["name"]]), r
kinds = sorted({(r["dtype_a"], r["dtype_b"]) for r in rows})
assert kinds == [("F32", "F32"), ("Q4_0", "Q8_0")], kinds
print(len(rows), "rows", kinds)
PY
then ok "compare: stored types $(cat "$T/py")"
else fail "compare stored types: $(cat "$T/py")"
fi
"$MP_BIN" compare "$F/model-q4_0.gguf" "$F/model-q8_0.gguf" >"$T/cmp" 2>&1
grep -q '^blk\.0\.ffn_down\.weight  *256x768  *Q4_0  *Q8_0  *no ' "$T/cmp" &&
	ok "compare table: Q4_0 Q8_0 columns" ||
	fail "compare table: $(grep ffn_down "$T/cmp")"

# --each on a folder of GGUF shards (written here by gguf_blocks.py
# --split, stored bytes copied unchanged): one model, every tensor of the
# unsplit file with the same stored-byte SHA-256
mkdir "$T/shards"
python3 "$MP_SRCDIR/tests/gguf_blocks.py" --split "$F/model-q4_k_m.gguf" 2 \
	"$T/shards/x" || fail "gguf_blocks.py --split"
"$MP_BIN" fingerprint --each "$T/shards" >"$T/out" 2>"$T/err" ||
	fail "fingerprint --each shards: $(cat "$T/err")"
rows=$(grep -c ' gguf  *[0-9]' "$T/out" || :)
[ "$rows" -eq 1 ] && grep -q 'x-00001-of-00002\.gguf ' "$T/out" &&
	ok "--each lists the two shards as one model" ||
	fail "--each shards: $rows rows: $(cat "$T/out")"
"$MP_BIN" fingerprint --each --json -o "$T/sh.json" "$T/shards" >/dev/null \
	2>"$T/err" || fail "fingerprint --each --json shards: $(cat "$T/err")"
"$MP_BIN" fingerprint --json -o "$T/one.json" "$F/model-q4_k_m.gguf" \
	>/dev/null 2>"$T/err" || fail "fingerprint q4_k_m: $(cat "$T/err")"
if python3 - "$T/sh.json" "$T/one.json" "$F/model-q4_k_m.gguf" >"$T/py" 2>&1 <<'PY'
import json, struct, sys
sh, one = (json.load(open(p))["fingerprints"] for p in sys.argv[1:3])
nt, = struct.unpack_from("<Q", open(sys.argv[3], "rb").read(16), 8)
h = lambda fp: {t["name"]: t["sha256"] for t in fp["tensors"]}
assert len(sh) == 1, "%d fingerprints" % len(sh)
assert len(sh[0]["tensors"]) == nt, "%d tensors, not %d" % (len(sh[0]["tensors"]), nt)
assert h(sh[0]) == h(one[0]), "tensor hashes differ"
print(nt, "tensors")
PY
then ok "--each shards: one fingerprint, $(cat "$T/py"), stored-byte hashes of the unsplit file"
else fail "--each shards: $(cat "$T/py")"
fi

# --arch: the fixture is a LLaMA of its own size (vocabulary 1024, GQA),
# which no named signature holds: the LLaMA-style fallback, with the
# sizes of the parent's config.json and, for the GGUF, the head counts of
# its metadata
want=$(python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))
print("  architecture: LLaMA-style decoder (llama): hidden %d, %d layers, "
      "%d heads, %d kv heads; coverage 100.0%% (20 of 20)" % (c["hidden_size"],
      c["num_hidden_layers"], c["num_attention_heads"], c["num_key_value_heads"]))' \
	"$F/parent/config.json")
for m in parent model-q4_k_m.gguf model-f16.gguf; do
	got=$("$MP_BIN" fingerprint --arch "$F/$m" 2>&1 | grep '^  architecture:')
	[ "$got" = "$want" ] && ok "--arch $m: $got" ||
		fail "--arch $m: '$got', want '$want'"
done

# the order statistics of Q4_0, Q4_1, Q4_K (read as (value, count) pairs)
# and Q6_K tensors bit for bit those of numpy on values dequantized by
# tests/gguf_stats.py (checked against the oracle's SHA-256), the means of
# the pairs the correctly rounded ones
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if $PY -c 'import numpy' 2>/dev/null; then
	for q in q4_k_m q6_k q4_0 q4_1; do
		"$MP_BIN" fingerprint --json -o "$T/st-$q.json" "$F/model-$q.gguf" \
			>/dev/null 2>"$T/err" || fail "fingerprint $q: $(cat "$T/err")"
		if $PY "$MP_SRCDIR/tests/gguf_stats.py" "$F/model-$q.gguf" \
			"$F/model-$q.dequant.jsonl" "$T/st-$q.json" 2 3 12 14 \
			>"$T/py" 2>&1
		then ok "$q: order statistics equal numpy's: $(tail -1 "$T/py")"
		else fail "$q: statistics against numpy: $(cat "$T/py")"
		fi
	done
else
	fail "no numpy for tests/gguf_stats.py"
fi

[ "$FAILS" -eq 0 ]
