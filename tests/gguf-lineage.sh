#!/bin/sh
# tests/gguf-lineage.sh — lineage across naming conventions: the real
# parent (../shared/fixtures/gguf/parent, Hugging Face names, 4 heads, 2 KV
# heads) renamed here with numpy to llama.cpp's GGUF names, its Q and K
# rows permuted as llama.cpp's converter does (convert_hf_to_gguf's
# LlamaModel.permute); `compare` must pair every tensor and find cosine 1 on
# Q/K with the permutation undone, `identify` the parent as an exact copy.
. "$MP_SRCDIR/tests/lib.sh"
FIX="$MP_SRCDIR/../shared/fixtures/gguf/parent"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
finish() { [ "$FAILS" -eq 0 ] || exit 1; exit 0; }
[ -f "$FIX/model.safetensors" ] || { fail "no parent fixture in $FIX"; finish; }

cat > "$T/mk.py" <<'PY'
import json, struct, sys, numpy as np
src, dst = sys.argv[1], sys.argv[2]
def read(p):
    b = open(p, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8+n]); data = b[8+n:]
    out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        s, e = v['data_offsets']
        assert v['dtype'] == 'F32'
        out[k] = np.frombuffer(data[s:e], '<f4').reshape(v['shape'])
    return out
def write(p, t):
    h, off, blobs = {}, 0, []
    for k, a in t.items():
        b = np.ascontiguousarray(a, '<f4').tobytes()
        h[k] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off+len(b)]}
        off += len(b); blobs.append(b)
    j = json.dumps(h).encode(); j += b' ' * (-len(j) % 8)
    open(p, 'wb').write(struct.pack('<Q', len(j)) + j + b''.join(blobs))
def permute(w, n_head):  # llama.cpp convert_hf_to_gguf LlamaModel.permute
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
cfg = json.load(open(src.rsplit('/', 1)[0] + '/config.json'))
nh, nkv = cfg['num_attention_heads'], cfg['num_key_value_heads']
names = {'model.embed_tokens': 'token_embd', 'model.norm': 'output_norm', 'lm_head': 'output'}
per = {'input_layernorm': 'attn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k',
       'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output',
       'post_attention_layernorm': 'ffn_norm', 'mlp.gate_proj': 'ffn_gate',
       'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down'}
out = {}
for k, a in read(src).items():
    base, suf = k.rsplit('.', 1)
    if base in names: g = names[base]
    else:
        p = base.split('.')
        assert p[0] == 'model' and p[1] == 'layers', k
        g = 'blk.%s.%s' % (p[2], per['.'.join(p[3:])])
    if g.endswith('attn_q'): a = permute(a, nh)
    if g.endswith('attn_k'): a = permute(a, nkv)
    out[g + '.' + suf] = a
write(dst, out)
print(len(out))
PY
$PY "$T/mk.py" "$FIX/model.safetensors" "$T/rp.safetensors" >/dev/null ||
	{ fail "numpy could not write the renamed model"; finish; }
mkdir -p "$T/p"
cp "$FIX/model.safetensors" "$T/p/" # the parent without its config.json

# check_compare JSON HEADS_INFERRED: 21 tensors paired, none only on one
# side, cosine exactly 1 everywhere, Q un-permuted with 4 heads and K with 2
check_compare() {
	$PY - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); inferred = sys.argv[2] == "1"
t = {x["name"]: x for x in d["tensors"]}
assert len(t) == 21, len(t)
assert d["only_in_a"] == [] and d["only_in_b"] == [] and d["shape_differs"] == []
for n, x in t.items():
    assert x["cosine"] == 1 and x["pearson"] == 1, (n, x)
    role = n.split(".")[2] if n.startswith("blk.") else ""
    if role in ("attn_q", "attn_k"):
        assert x["unpermuted_heads"] == (4 if role == "attn_q" else 2), (n, x)
        assert x["heads_inferred"] == inferred, (n, x)
        assert x["identical_bytes"] is False, (n, x) # stored permuted
    else:
        assert "unpermuted_heads" not in x and x["identical_bytes"], (n, x)
assert d["scores"]["tensors"]["cosine"] == 1, d["scores"]
assert d["scores"]["tensors"]["shape"] == 1, d["scores"]
PY
}

"$MP_BIN" compare --json "$T/rp.safetensors" "$FIX/model.safetensors" \
	> "$T/c.json" || fail "compare exit $?"
check_compare "$T/c.json" 0 && ok "compare: every tensor paired, Q/K un-permuted (config.json)" ||
	fail "compare across conventions"
# either order, and the head counts inferred without config.json
"$MP_BIN" compare --json "$T/rp.safetensors" "$T/p/model.safetensors" \
	> "$T/c2.json" || fail "compare exit $?"
check_compare "$T/c2.json" 1 && ok "compare: head counts inferred" ||
	fail "compare, inferred head counts"
"$MP_BIN" compare "$T/p/model.safetensors" "$T/rp.safetensors" > "$T/c3.txt" ||
	fail "compare B A exit $?"
grep -q "model.layers.0.self_attn.k_proj.weight: llama.cpp's Q/K row permutation undone (2 heads, inferred" "$T/c3.txt" &&
	grep -q "^only in .*: 0 tensors" "$T/c3.txt" && ok "compare B A text" ||
	fail "compare B A text: $(cat "$T/c3.txt")"

"$MP_BIN" identify --json "$T/rp.safetensors" "$FIX/model.safetensors" \
	> "$T/i.json" || fail "identify exit $?"
$PY - "$T/i.json" <<'PY' && ok "identify: the parent, an exact copy" || fail "identify: $(cat "$T/i.json")"
import json, sys
d = json.load(open(sys.argv[1]))
v = d["verdict"]
assert v["match"] and v["name"] == "model.safetensors" and v["relation"] == "copy", v
PY
"$MP_BIN" identify "$T/rp.safetensors" "$FIX/model.safetensors" > "$T/i.txt" ||
	fail "identify text exit $?"
grep -q "4 Q/K tensors in GGUF naming compared with llama.cpp's rotary row permutation undone" "$T/i.txt" &&
	ok "identify names the un-permutation" || fail "identify text: $(cat "$T/i.txt")"

# The architecture signatures are written in Hugging Face names: the GGUF
# names are matched under theirs, so both conventions get the same verdict.
"$MP_BIN" fingerprint --arch "$T/rp.safetensors" | grep '^  architecture:' > "$T/a1.txt"
"$MP_BIN" fingerprint --arch "$FIX/model.safetensors" | grep '^  architecture:' > "$T/a2.txt"
[ -s "$T/a1.txt" ] && cmp -s "$T/a1.txt" "$T/a2.txt" &&
	ok "fingerprint --arch: the same verdict in GGUF names" ||
	fail "fingerprint --arch: $(cat "$T/a1.txt") vs $(cat "$T/a2.txt")"
finish
