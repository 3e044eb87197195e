#!/bin/sh
# tests/gguf-convert.sh — lineage across formats for what llama.cpp's
# converter changes besides names. Gemma's norms scale by 1 + w and the
# converter stores 1 + w (convert_hf_to_gguf.py, GemmaModel), so a Gemma
# GGUF holds every norm shifted by 1 from its Hugging Face parent; GPT-2's
# checkpoints hold the projections as Conv1D weights, input-first, and
# the converter stores them transposed (GPT2Model). tests/gguf_convert.py
# writes tiny Gemma and GPT-2 models and converts them as the converter
# does; compare (files) and identify (files, and fingerprints alone) must
# call each conversion what it is, and a model whose norms really changed
# must not pass for one.
. "$MP_SRCDIR/tests/lib.sh"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
C="$PY $MP_SRCDIR/tests/gguf_convert.py"

# field JSON_FILE EXPR: a value of the JSON document (python expression on d)
field() {
	$PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# kinds "GGUF PARENT KIND" ...: compare --json of T/GGUF.gguf against
# T/PARENT (into T/GGUF.json) gives relation KIND
kinds() {
	for x in "$@"; do
		set -- $x
		"$MP_BIN" compare --json "$T/$1.gguf" "$T/$2" > "$T/$1.json" ||
			fail "compare $1 exit $?"
		k=$(field "$T/$1.json" "d['relation']['kind']")
		[ "$k" = "$3" ] && ok "$1 vs its parent: $k" ||
			fail "$1 vs its parent: $k, want $3"
	done
}

# fp_registry DIR DB: registry DB holding only the fingerprint of a copy
# of model DIR, named parent (its files gone, as on a compute server)
fp_registry() {
	rm -rf "$T/gone"
	cp -r "$1" "$T/gone"
	"$MP_BIN" registry --registry "$2" add "$T/gone" --fingerprint \
		--name parent > /dev/null || fail "registry add $1"
	rm -rf "$T/gone"
}

$C make gemma "$T/hf32"
$C make gemma "$T/hfbf" --dtype BF16 --seed 2
$C convert gemma "$T/hf32/model.safetensors" "$T/g32.gguf"
$C convert gemma "$T/hfbf/model.safetensors" "$T/gbf.gguf"
$C convert gemma "$T/hf32/model.safetensors" "$T/g8.gguf" --type Q8_0 > "$T/g8.want"
$C convert gemma "$T/hf32/model.safetensors" "$T/gft.gguf" --norm-noise 0.05 --seed 5

# 1. compare on the files: F32 -> F32 the same values, BF16 -> F32 a
# widening, Q8_0 a quantization with the error python computes; every
# norm pairs with cosine 1 once the converter's 1 is accounted for
kinds "g32 hf32 copy" "gbf hfbf dtype" "g8 hf32 quant"
$PY - "$T/g32.json" "$T/g8.json" "$T/g8.want" <<'PY' &&
import json, sys
for f in sys.argv[1:3]:
    d = json.load(open(f))
    norms = [t for t in d['tensors'] if t['name'].endswith('norm.weight')]
    assert len(norms) == 5, [t['name'] for t in d['tensors']]
    for t in norms:
        assert abs(t['cosine'] - 1) < 1e-6 and abs(t['pearson'] - 1) < 1e-6, t
    ev = d['relation']['evidence']
    assert "5 norms in GGUF naming compared as llama.cpp's converter writes them, the other side's weights + 1" in ev, ev
g = json.load(open(sys.argv[2]))['relation']['ggml']
w = json.load(open(sys.argv[3]))
assert abs(g['error_ratio'] - w['ratio']) <= 1e-6 * w['ratio'], (g, w)
assert g['other_tensors_changed'] == 0, g
PY
	ok "norms: cosine 1 with the converter's +1; Q8_0 error ratio as python's" ||
	fail "norms or Q8_0 ratio: $(field "$T/g8.json" "d['relation']")"

# 2. a model whose norms moved (noise of 5 % of their spread) before the
# conversion is not a copy: the norms do not hold the parent's + 1
"$MP_BIN" compare --json "$T/gft.gguf" "$T/hf32" > "$T/gft.json" ||
	fail "compare gft exit $?"
k=$(field "$T/gft.json" "d['relation']['kind']")
[ "$k" = finetune ] && ok "norms changed, then converted: fine-tune" ||
	fail "norms changed, then converted: $k"

# 3. the fingerprint keeps the stored values' statistics and SHA-256 and
# samples the original's weights: the norm's sketch is the stored values
# minus 1 at the parent's own sketch positions (numpy, from the files)
"$MP_BIN" fingerprint --json -o "$T/p.json" "$T/hf32" > /dev/null || fail "fingerprint parent"
"$MP_BIN" fingerprint --json -o "$T/g32fp.json" "$T/g32.gguf" > /dev/null || fail "fingerprint g32"
$PY - "$T/p.json" "$T/g32fp.json" "$T/g32.gguf" <<'PY' &&
import base64, hashlib, json, sys, numpy as np
def tensors(f):
    return {t['name']: t for t in json.load(open(f))['fingerprints'][0]['tensors']}
p, g = tensors(sys.argv[1]), tensors(sys.argv[2])
data = open(sys.argv[3], 'rb').read()
for hf, gn in (('model.norm.weight', 'output_norm.weight'),
               ('model.layers.1.input_layernorm.weight', 'blk.1.attn_norm.weight')):
    a, b = p[hf], g[gn]
    assert b['sketch_offset'] == 1 and 'sketch_offset' not in a, (a.keys(), b.keys())
    x = np.frombuffer(base64.b64decode(a['sketch']), '<f4').astype(np.float64)
    y = np.frombuffer(base64.b64decode(b['sketch']), '<f4').astype(np.float64)
    stored = (x.astype(np.float32) + np.float32(1)).astype(np.float64)
    assert np.array_equal(y, stored - 1), (x[:4], y[:4])
    assert abs(b['stats']['mean'] - (a['stats']['mean'] + 1)) < 1e-6, (a['stats'], b['stats'])
    assert abs(b['stats']['std'] - a['stats']['std']) < 1e-6
PY
	ok "fingerprint: norm sketch = stored - 1 at the parent's positions, stats of the stored values" ||
	fail "fingerprint of the Gemma norms"

# 4. identify against fingerprints alone (the parent's files removed):
# the F32 conversion a copy, the Q8_0 one quantized from it, no warning
# that the file's architecture disagrees with its tensors; and a
# fingerprint written before the offset was taken off (sketch_offset
# absent, raw stored values in the sketch) reads the same
R="$T/reg.db"
fp_registry "$T/hf32" "$R"
$PY - "$T/g32fp.json" "$T/old.json" <<'PY'
import base64, json, sys, numpy as np
d = json.load(open(sys.argv[1]))
for t in d['fingerprints'][0]['tensors']:
    if t.pop('sketch_offset', None):
        s = np.frombuffer(base64.b64decode(t['sketch']), '<f4') + np.float32(1)
        t['sketch'] = base64.b64encode(s.astype('<f4').tobytes()).decode()
json.dump(d, open(sys.argv[2], 'w'))
PY
for x in "g32.gguf copy" "g8.gguf quant" "old.json copy"; do
	set -- $x
	"$MP_BIN" identify --json "$T/$1" --against "$R" > "$T/i.json" 2> /dev/null ||
		fail "identify $1 exit $?"
	if $PY - "$T/i.json" "$2" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1])); v = d['verdict']
assert v['match'] and v['name'] == 'parent' and v['relation'] == sys.argv[2], v
assert d['relation']['source'] == 'sketches', d['relation']
assert d['declared']['architecture_agrees'] is not False, d['declared']
if sys.argv[2] == 'copy':
    assert '5 are norms holding the parent' in d['relation']['evidence'], d['relation']
else:
    assert d['relation']['details']['ggml']['other_tensors_changed'] == 0, d['relation']
PY
		ok "identify $1 on fingerprints: $2 of the parent"
	else
		fail "identify $1: $(grep -A4 '"verdict"' "$T/i.json")"
	fi
done

# 5. Gemma 2 and 3 norm before and after each sublayer: the GGUF's
# ffn_norm is Hugging Face's pre_feedforward_layernorm there, LLaMA's
# post_attention_layernorm elsewhere, so names are read under the file's
# architecture; Gemma 3 and Qwen3 add per-head q/k norms (Gemma 3's
# stored as 1 + w, Qwen3's as they are). Each F32 conversion pairs every
# tensor with cosine 1 and is an exact copy, on the files and on
# fingerprints alone; each Q8_0 one a quantization.
for a in gemma2 gemma3 qwen3; do
	$C make $a "$T/h-$a" --seed 4
	$C convert $a "$T/h-$a/model.safetensors" "$T/c-$a.gguf"
	$C convert $a "$T/h-$a/model.safetensors" "$T/q-$a.gguf" --type Q8_0 > /dev/null
	kinds "c-$a h-$a copy" "q-$a h-$a quant"
	if $PY - "$T/c-$a.json" "$a" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
n = {'gemma2': 24, 'gemma3': 28, 'qwen3': 25}[sys.argv[2]]
assert len(d['tensors']) == n and not d['only_in_a'] and not d['only_in_b'], d['tensors']
bad = [t['name'] for t in d['tensors'] if abs(t['cosine'] - 1) > 1e-12]
assert not bad, bad
PY
		ok "$a: all tensors paired, cosine 1"
	else
		fail "$a: pairing $(field "$T/c-$a.json" "[(t['name'], t['cosine']) for t in d['tensors']]")"
	fi
	R3="$T/reg-$a.db"
	fp_registry "$T/h-$a" "$R3"
	"$MP_BIN" identify --json "$T/c-$a.gguf" --against "$R3" > "$T/i.json" 2> /dev/null ||
		fail "identify $a exit $?"
	r=$(field "$T/i.json" "d['verdict']['relation'], d['relation']['source']")
	[ "$r" = "copy sketches" ] && ok "$a on fingerprints: copy of the parent" ||
		fail "$a on fingerprints: $r"
done

# 6. GPT-2: the same on files and on fingerprints, each of the 8 Conv1D
# matrices paired with its transpose (cosine 1 on F32, the square
# attn_output too, where the stored layout would give ~0), the mask
# buffers only in the checkpoint
$C make gpt2 "$T/gp"
$C make gpt2 "$T/gpbf" --dtype BF16 --seed 3
$C convert gpt2 "$T/gp/model.safetensors" "$T/p32.gguf"
$C convert gpt2 "$T/gpbf/model.safetensors" "$T/pbf.gguf"
$C convert gpt2 "$T/gp/model.safetensors" "$T/p8.gguf" --type Q8_0 > "$T/p8.want"
kinds "p32 gp copy" "pbf gpbf dtype" "p8 gp quant"
$PY - "$T/p32.json" "$T/p8.json" "$T/p8.want" <<'PY' &&
import json, sys
d = json.load(open(sys.argv[1]))
t = [x for x in d['tensors'] if x.get('transposed')]
assert sorted(x['name'] for x in t) == sorted(
    'blk.%d.%s.weight' % (i, n) for i in range(2)
    for n in ('attn_qkv', 'attn_output', 'ffn_up', 'ffn_down')), t
assert all(x['cosine'] == 1 and x['pearson'] == 1 for x in t), t
assert len(d['only_in_b']) == 2 and not d['shape_differs'], d['only_in_b']
assert '8 matrices in GGUF naming compared with the other side' in d['relation']['evidence']
g = json.load(open(sys.argv[2]))['relation']['ggml']
w = json.load(open(sys.argv[3]))
assert abs(g['error_ratio'] - w['ratio']) <= 1e-6 * w['ratio'], (g, w)
assert g['tensors'] == 10 and g['other_tensors_changed'] == 0, g
PY
	ok "GPT-2: Conv1D matrices compared transposed, cosine 1; Q8_0 ratio as python's" ||
	fail "GPT-2 tensors: $(field "$T/p32.json" "d['relation']")"

# the fingerprint of a transposed matrix: its stored shape, and a sketch
# equal to the parent's (positions of the parent's shape)
"$MP_BIN" fingerprint --json -o "$T/gpfp.json" "$T/gp" > /dev/null || fail "fingerprint gp"
"$MP_BIN" fingerprint --json -o "$T/p32fp.json" "$T/p32.gguf" > /dev/null || fail "fingerprint p32"
$PY - "$T/gpfp.json" "$T/p32fp.json" <<'PY' &&
import json, sys
def tensors(f):
    return {t['name']: t for t in json.load(open(f))['fingerprints'][0]['tensors']}
p, g = tensors(sys.argv[1]), tensors(sys.argv[2])
a, b = p['h.1.mlp.c_fc.weight'], g['blk.1.ffn_up.weight']
assert a['shape'] == [64, 128] and b['shape'] == [128, 64], (a['shape'], b['shape'])
assert b.get('transposed') is True and 'transposed' not in a
assert a['sketch'] == b['sketch'], 'sketch'
for k, x in a['stats'].items():  # the same values summed in another order
    assert abs(x - b['stats'][k]) <= 1e-12 * max(1, abs(x)), (k, x, b['stats'][k])
assert a['sha256'] != b['sha256']
PY
	ok "fingerprint: a transposed matrix keeps its shape, samples the parent's layout" ||
	fail "fingerprint of the GPT-2 matrices"
R2="$T/reg2.db"
fp_registry "$T/gp" "$R2"
for x in "p32 copy" "p8 quant"; do
	set -- $x
	"$MP_BIN" identify --json "$T/$1.gguf" --against "$R2" > "$T/i.json" 2> /dev/null ||
		fail "identify $1 exit $?"
	if $PY - "$T/i.json" "$2" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1])); v = d['verdict']
assert v['match'] and v['name'] == 'parent' and v['relation'] == sys.argv[2], v
assert d['relation']['source'] == 'sketches', d['relation']
if sys.argv[2] == 'copy':
    assert '8 are matrices llama.cpp' in d['relation']['evidence'], d['relation']
else:
    g = d['relation']['details']['ggml']
    assert g['tensors'] == 10 and g['worst_error_ratio'] <= 1.25, g
PY
		ok "identify GPT-2 $1 on fingerprints: $2 of the parent"
	else
		fail "identify GPT-2 $1: $(grep -A4 '"verdict"' "$T/i.json")"
	fi
done
finish
