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
# the ranking's ARCHITECTURE column holds the signature's whole name
# (data/architectures.json's 19-character fallback), not a cut one
grep -q "^ *1 .* LLaMA-style decoder  " "$T/i.txt" &&
	ok "identify text: the architecture name uncut" ||
	fail "identify architecture column: $(grep -A2 '^RANK' "$T/i.txt")"

# The architecture signatures are written in Hugging Face names: the GGUF
# names are matched under theirs, so both conventions get the same verdict
# (the head counts from the config.json beside each).
mkdir "$T/arch" && cp "$T/rp.safetensors" "$FIX/config.json" "$T/arch/"
"$MP_BIN" fingerprint --arch "$T/arch/rp.safetensors" | grep '^  architecture:' > "$T/a1.txt"
"$MP_BIN" fingerprint --arch "$FIX/model.safetensors" | grep '^  architecture:' > "$T/a2.txt"
[ -s "$T/a1.txt" ] && cmp -s "$T/a1.txt" "$T/a2.txt" &&
	ok "fingerprint --arch: the same verdict in GGUF names" ||
	fail "fingerprint --arch: $(cat "$T/a1.txt") vs $(cat "$T/a2.txt")"

# The sketch-only path: a registry that holds only fingerprints (the
# parent's and the f32 conversion's files removed after `registry add`).
# The sketch of a GGUF Q/K matrix is taken with llama.cpp's permutation
# undone (sketch_qk_heads), so sketch[k] is the weight at HF position k as
# in the parent's. Expected values from the files, in numpy: the GGUF's
# own tensors (F32, and Q8_0 blocks decoded: fp16 scale times int8),
# un-permuted with the metadata's head counts, at the parent's sketch
# positions (recovered from the parent's values: one per stratum of
# numel / sketch_size values, the one equal to the sketch value).
G="$MP_SRCDIR/../shared/fixtures/gguf"
R="$T/reg.db"
mkdir -p "$T/gone"
cp -r "$FIX" "$T/gone/parent"
"$MP_BIN" registry --registry "$R" add "$T/gone/parent" --fingerprint \
	--name parent > /dev/null || fail "registry add parent"
rm -rf "$T/gone/parent"
cat > "$T/sk.py" <<'PY'
import base64, json, struct, sys, numpy as np
fix, gguf, fpj = sys.argv[1], sys.argv[2], sys.argv[3]
def st_read(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8+n]); d = b[8+n:]
    return {k: np.frombuffer(d[v['data_offsets'][0]:v['data_offsets'][1]], '<f4').reshape(v['shape'])
            for k, v in h.items() if k != '__metadata__'}
def gguf_read(p):  # GGUF v3, little-endian: F32 and Q8_0 tensors
    b = open(p, 'rb').read(); o = 0
    def u(f):
        nonlocal o
        v = struct.unpack_from('<' + f, b, o); o += struct.calcsize(f); return v[0]
    def s():
        nonlocal o
        n = u('Q'); v = b[o:o+n].decode(); o += n; return v
    sizes = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}
    def val(t):
        if t == 8: return s()
        if t == 9:
            et, n = u('I'), u('Q'); return [val(et) for _ in range(n)]
        return u(sizes[t])
    assert b[:4] == b'GGUF'; o = 4; u('I'); nt, nkv = u('Q'), u('Q')
    meta = {}
    for _ in range(nkv):
        k = s(); meta[k] = val(u('I'))
    infos = []
    for _ in range(nt):
        name = s(); nd = u('I'); dims = [u('Q') for _ in range(nd)]
        infos.append((name, dims[::-1], u('I'), u('Q')))
    al = meta.get('general.alignment', 32); base = (o + al - 1) // al * al
    out = {}
    for name, shape, typ, off in infos:
        n = int(np.prod(shape))
        if typ == 0:
            a = np.frombuffer(b, '<f4', n, base + off)
        elif typ == 8:
            blk = np.frombuffer(b, np.dtype([('d', '<f2'), ('q', 'i1', 32)]), n // 32, base + off)
            a = (blk['d'].astype(np.float32)[:, None] * blk['q'].astype(np.float32)).reshape(-1)
        else:
            continue
        out[name] = a.reshape(shape)
    return meta, out
def unpermute(w, h):  # inverse of convert_hf_to_gguf's LlamaModel.permute
    return w.reshape(h, w.shape[0] // h // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
def sketch(t):
    return np.frombuffer(base64.b64decode(t['sketch']), '<f4')
parent = st_read(fix + '/model.safetensors')
meta, g = gguf_read(gguf)
heads = {'q': meta['llama.attention.head_count'], 'k': meta['llama.attention.head_count_kv']}
fp = json.load(open(fpj))['fingerprints'][0]
pf = {t['name']: t for t in json.load(open(sys.argv[4]))['fingerprints'][0]['tensors']}
ft = {t['name']: t for t in fp['tensors']}
cos = {}
for L in range(2):
    for r in 'qk':
        gn, hn = 'blk.%d.attn_%s.weight' % (L, r), 'model.layers.%d.self_attn.%s_proj.weight' % (L, r)
        hv = parent[hn].reshape(-1); ps = sketch(pf[hn]); K = len(ps); n = hv.size
        pos = []
        for i in range(K):
            a, z = i * n // K, (i + 1) * n // K
            hit = [a + j for j in np.nonzero(hv[a:z] == ps[i])[0]]
            assert len(hit) == 1, (hn, i, hit)
            pos.append(hit[0])
        want = unpermute(g[gn], heads[r]).reshape(-1)[pos]
        got = sketch(ft[gn])
        assert ft[gn].get('sketch_qk_heads') == heads[r], ft[gn].get('sketch_qk_heads')
        assert np.array_equal(got.view('<u4'), want.astype('<f4').view('<u4')), (gn, got[:4], want[:4])
        x, y = want.astype(np.float64), ps.astype(np.float64)
        cos[gn] = float(x @ y / np.sqrt((x @ x) * (y @ y)))
    assert 'sketch_qk_heads' not in ft['blk.%d.attn_v.weight' % L]
print(json.dumps(cos))
PY
"$MP_BIN" fingerprint --json -o "$T/parent.json" "$FIX" > /dev/null ||
	fail "fingerprint parent"
for q in f32 q8_0; do
	"$MP_BIN" fingerprint --json -o "$T/$q.json" "$G/model-$q.gguf" > /dev/null ||
		fail "fingerprint $q"
	if $PY "$T/sk.py" "$FIX" "$G/model-$q.gguf" "$T/$q.json" "$T/parent.json" > "$T/$q.cos"; then
		ok "$q: Q/K sketches at the parent's positions, un-permuted (numpy)"
	else
		fail "$q: Q/K sketches: $(cat "$T/$q.cos")"
	fi
	"$MP_BIN" identify --json "$G/model-$q.gguf" --against "$R" > "$T/i-$q.json" \
		2> /dev/null || fail "identify $q exit $?"
done
# f32: the same values, so a sketch cosine of 1 on Q/K (numpy's), the
# parent named as an exact copy; q8_0: the parent named, its score
# cosine as the other tensors' (> 0.999), no longer "permuted units",
# and a quantization (measured at the parent's sketch positions)
$PY - "$T/f32.cos" "$T/q8_0.cos" "$T/i-f32.json" "$T/i-q8_0.json" <<'PY' &&
import json, sys
c32, c8 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert all(v > 0.999999 for v in c32.values()), c32
assert all(v > 0.999 for v in c8.values()), c8
for f, rel in ((sys.argv[3], 'copy'), (sys.argv[4], 'quant')):
    d = json.load(open(f)); v = d['verdict']
    assert v['match'] and v['name'] == 'parent' and v['relation'] == rel, v
    r = d['ranking'][0]
    assert r['name'] == 'parent' and r['cosine'] > 0.999 and r['pearson'] > 0.999, r
    assert d['relation']['source'] == 'sketches', d['relation']
PY
	ok "identify on fingerprints only: the parent, Q/K sketch cosine > 0.999" ||
	fail "identify on fingerprints: $(cat "$T/i-f32.json" "$T/i-q8_0.json" | grep -A6 '"verdict"')"

# Every llama.cpp quantization of the fixture against the parent's
# fingerprint alone: quantized from it, measured at its sketch positions
# (4096 per matrix: the 16 matrices' 65536, the Q/K ones in Hugging Face
# order), each tensor's error within MP_LIN_GGML_RATIO_MAX (1.25) of what
# its grid leaves, with the file type llama.cpp wrote.
for q in q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k_m q4_k_m q5_k_m q6_k iq4_nl iq4_xs; do
	"$MP_BIN" identify --json "$G/model-$q.gguf" --against "$R" > "$T/s-$q.json" \
		2> /dev/null || fail "identify $q exit $?"
	if $PY - "$T/s-$q.json" "$q" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1])); q = sys.argv[2].upper()
v, r = d['verdict'], d['relation']
assert v['match'] and v['name'] == 'parent' and v['relation'] == 'quant', v
assert v['text'].startswith('the unknown is most likely quantized (%s: ' % q), v
assert v['text'].endswith(') from parent'), v
g = r['details']['ggml']
assert r['source'] == 'sketches' and g['sketch_positions'] is True, r
assert g['tensors'] == 16 and g['values'] == 16 * 4096, g
assert g['worst_error_ratio'] <= 1.25 and g['error_ratio'] <= g['worst_error_ratio'], g
assert g['file_type'] == q and g['requantized_from'] is None, g
assert g['other_tensors_changed'] == 0, g
assert '65536 sketch positions' in r['evidence'], r['evidence']
PY
		ok "$q: quantized from the parent's fingerprint (sketch positions)"
	else
		fail "$q on fingerprints: $(grep -A3 '"verdict"' "$T/s-$q.json")"
	fi
done

# A fingerprint written before (Q/K sketches in the GGUF's stored order,
# no sketch_qk_heads) is not misread: its Q/K sketches are left out of the
# comparison with the parent's, not scored as unrelated (cosine ~0).
$PY - "$T/f32.json" "$T/old.json" "$G/model-f32.gguf" "$T/sk.py" <<'PY' ||
import json, sys, numpy as np, base64
ns = {}
src = open(sys.argv[4]).read()
exec(src[:src.index('parent = st_read')], ns)
meta, g = ns['gguf_read'](sys.argv[3])
d = json.load(open(sys.argv[1]))
for t in d['fingerprints'][0]['tensors']:
    if t.pop('sketch_qk_heads', None):
        r = 'q' if t['name'].endswith('attn_q.weight') else 'k'
        h = meta['llama.attention.head_count' + ('' if r == 'q' else '_kv')]
        got = np.frombuffer(base64.b64decode(t['sketch']), '<f4')
        # back to the stored order: sketch[k] = stored[pos[k]] with pos the
        # HF positions whose un-permuted values the new sketch holds
        hf = ns['unpermute'](g[t['name']], h).reshape(-1)
        pos = [int(np.nonzero(hf.view('<u4') == v)[0][0]) for v in got.view('<u4')]
        t['sketch'] = base64.b64encode(g[t['name']].reshape(-1)[pos].astype('<f4').tobytes()).decode()
json.dump(d, open(sys.argv[2], 'w'))
PY
	fail "could not write the old-style fingerprint"
"$MP_BIN" identify --json "$T/old.json" --against "$R" > "$T/i-old.json" \
	2> /dev/null || fail "identify old exit $?"
$PY - "$T/i-old.json" <<'PY' && ok "an old GGUF fingerprint: its stored-order Q/K sketches left out" ||
import json, sys
d = json.load(open(sys.argv[1])); r = d['ranking'][0]
assert r['name'] == 'parent' and r['cosine'] > 0.999999 and r['pearson'] > 0.999999, r
assert d['verdict']['relation'] != 'permuted', d['verdict']
PY
	fail "old fingerprint: $(cat "$T/i-old.json" | grep -A6 '"verdict"')"
finish
