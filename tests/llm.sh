#!/bin/sh
# tests/llm.sh — the causal-LM forward pass, `modelprint generate` and the
# input_output math against tests/llm_ref.py, an independent torch/numpy
# implementation of the published equations (Debian's python3-torch and
# python3-numpy, run with /usr/bin/python3): logits on stories260K
# (llama2.c), the LLaMA fixture (safetensors, a PyTorch pytorch_model.bin
# of it, and its f32/f16/q8_0 GGUF conversions), small random
# GPT-2/Qwen2/Gemma/Phi-3/LLaMA-3 models in Hugging Face layout and converted to GGUF as llama.cpp does, with
# llama3, yarn, longrope and linear rope scaling and partial rotary;
# greedy decoding; mp_io_fingerprint. Then the command's errors.
. "$MP_SRCDIR/tests/lib.sh"
PY=/usr/bin/python3
FX=${MP_FIXTURES:-$MP_SRCDIR/../shared/fixtures}
[ -f "$FX/llm/stories260K.bin" ] || { echo "FAIL: no fixtures in $FX"; exit 1; }
$PY -c 'import torch, numpy' 2>/dev/null ||
	{ echo "FAIL: $PY lacks torch or numpy (python3-torch, python3-numpy)"; exit 1; }
[ -x "${MP_LLM_IO:-}" ] || { echo "FAIL: MP_LLM_IO (tests/llm_io_tool) not set"; exit 1; }

mkdir -p "$T/work"
if $PY "$MP_SRCDIR/tests/llm_ref.py" check "$FX" "$T/work" >"$T/ref" 2>&1; then
	sed 's/^/  /' "$T/ref"; ok "forward pass agrees with the torch reference"
else
	cat "$T/ref"; fail "forward pass disagrees with the torch reference"
fi

ST=$FX/llm/stories260K.bin
# The first three of the 32 greedy ids the torch reference gave above.
out=$("$MP_BIN" generate "$ST" --tokens 1 --greedy 3 --json) &&
	[ "$out" = '{"model":"'"$ST"'","prompt":[1],"generated":[461,461,401]}' ] &&
	ok "generate --json" || fail "generate --json: $out"

# One error line naming the file, exit 1; usage errors exit 2 (the
# message, then "try 'modelprint generate --help'").
expect() { # RC PATTERN CMD...
	rc=$1 pat=$2; shift 2
	got=0; "$MP_BIN" "$@" >"$T/o" 2>"$T/e" || got=$?
	if [ "$got" = "$rc" ] && grep -q -- "$pat" "$T/e" &&
		[ "$(wc -l <"$T/e")" -eq $((rc == 2 ? 2 : 1)) ] && [ ! -s "$T/o" ]; then
		ok "$*: $(head -n 1 "$T/e")"
	else
		fail "$* (exit $got, want $rc /$pat/): $(cat "$T/e")"
	fi
}
expect 1 "stories260K.bin: token id 512 outside the vocabulary" generate "$ST" --tokens 1,512
expect 2 "is not a list of token ids" generate "$ST" --tokens 1,x
expect 2 "is not a list of token ids" generate "$ST" --tokens ""
expect 2 "--tokens ID,ID,... is required" generate "$ST"
expect 2 "--greedy" generate "$ST" --tokens 1 --greedy -1
mkdir -p "$T/nolm" && cp "$FX/gguf/parent/model.safetensors" "$T/nolm/"
expect 1 "nolm/model.safetensors: not a causal language model" generate "$T/nolm/model.safetensors" --tokens 1
printf '{"model_type": "bert", "hidden_size": 4}' >"$T/nolm/config.json"
expect 1 "config.json: model_type 'bert' is not a causal LM" generate "$T/nolm/model.safetensors" --tokens 1
mkdir -p "$T/lie" && cp "$FX/gguf/parent/model.safetensors" "$T/lie/" &&
	sed 's/"intermediate_size": 768/"intermediate_size": 700/' \
		"$FX/gguf/parent/config.json" >"$T/lie/config.json"
expect 1 "gate_proj.weight is 768x256 F32; the configuration implies float 700x256" generate "$T/lie" --tokens 1
# A GGUF whose metadata disagrees with its tensors: feed_forward_length
# 768 (u32) rewritten as 700.
$PY - "$FX/gguf/model-f32.gguf" "$T/lie.gguf" <<'PYEOF'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
k = b"llama.feed_forward_length"
i = b.index(k) + len(k)
assert struct.unpack_from("<II", b, i) == (4, 768)
struct.pack_into("<I", b, i + 4, 700)
open(sys.argv[2], "wb").write(b)
PYEOF
expect 1 "lie.gguf: tensor blk.0.ffn_gate.weight is 768x256 F32; the configuration implies float 700x256" generate "$T/lie.gguf" --tokens 1
# Hostile configurations: heads that do not split the width.
mkdir -p "$T/g2" && cp "$T/work/gpt2/model.safetensors" "$T/g2/" &&
	sed 's/"n_head": 4/"n_head": 5/' "$T/work/gpt2/config.json" >"$T/g2/config.json"
expect 1 "n_embd 32 is not a multiple of n_head 5" generate "$T/g2" --tokens 1
sed 's/"num_attention_heads": 4/"num_attention_heads": 512/' \
	"$FX/gguf/parent/config.json" >"$T/lie/config.json"
expect 1 "512 attention heads with 2 key/value heads of size 0: not a valid grouping" generate "$T/lie" --tokens 1
# Rope scalings the pass does not implement, and broken longrope data.
mkdir -p "$T/dyn" && cp "$T/work/linear/model.safetensors" "$T/dyn/" &&
	sed 's/"type": "linear"/"type": "dynamic"/' "$T/work/linear/config.json" >"$T/dyn/config.json"
expect 1 "dyn/config.json: rope_scaling type 'dynamic' is not supported (linear, llama3, yarn, longrope)" generate "$T/dyn" --tokens 1
mkdir -p "$T/lr" && cp "$T/work/longrope/model.safetensors" "$T/lr/" &&
	sed 's/"short_factor": \[[^]]*\]/"short_factor": [1.0, 2.0]/' \
		"$T/work/longrope/config.json" >"$T/lr/config.json"
expect 1 "lr/config.json: rope_scaling.short_factor is not a list of 4 numbers" generate "$T/lr" --tokens 1
$PY - "$T/work" "$T" <<'PYEOF'
import sys
w, t = sys.argv[1], sys.argv[2]
b = open(w + "/yarn.gguf", "rb").read()
v = b"\x04\0\0\0\0\0\0\0yarn"
assert b.count(v) == 1
open(t + "/yurt.gguf", "wb").write(b.replace(v, v[:8] + b"yurt"))
b = open(w + "/longrope.gguf", "rb").read()
assert b.count(b"rope_factors_long.weight") == 1
open(t + "/lung.gguf", "wb").write(b.replace(b"rope_factors_long.weight", b"rope_factors_lung.weight"))
PYEOF
$PY "$MP_SRCDIR/tests/llm_ref.py" gguf "$T/work/yarn" "$T/ext.gguf" qwen2.rope.scaling.yarn_ext_factor=0.5
expect 1 "ext.gguf: qwen2.rope.scaling.yarn_ext_factor 0.5 is not supported (1 only)" generate "$T/ext.gguf" --tokens 1
expect 1 "yurt.gguf: qwen2.rope.scaling.type 'yurt' is not supported (none, linear, yarn, longrope)" generate "$T/yurt.gguf" --tokens 1
expect 1 "lung.gguf: longrope needs both rope_factors_short.weight and rope_factors_long.weight" generate "$T/lung.gguf" --tokens 1
n=$("$MP_BIN" generate "$FX/gguf/model-q4_k_m.gguf" --tokens 1,2 --greedy 0 --logits | wc -w) &&
	[ "$n" = 1024 ] && ok "generate on Q4_K_M: 1024 logits" || fail "generate on Q4_K_M: $n logits"
"$MP_BIN" generate --help | grep -q "usage: modelprint generate" && ok "generate --help" || fail "generate --help"

# Threads: weights decoded, attention, norms and activations split over
# any number of threads give the same logits, bit for bit (%.9g prints a
# float32 exactly; 40 tokens: 2 or more parts of 16 rows); the torch
# comparison above ran with all CPUs.
for m in "$FX/gguf/model-q4_k_m.gguf" "$FX/gguf/model-q6_k.gguf" "$ST" \
	"$T/work/gpt2" "$T/work/gemma" "$T/work/phi3" "$T/work/qwen2"; do
	p=1,5,9,3,7,2,40,33,20,11,12,13,14,15,16,17,18,19,20,60,2,4,6,8,10,12,14,16,18,20,22,24,26,28,30,32,34,36,38,40
	"$MP_BIN" generate "$m" --tokens $p --greedy 0 --logits --threads 1 >"$T/t1" &&
		"$MP_BIN" generate "$m" --tokens $p --greedy 0 --logits --threads 3 >"$T/t3" &&
		"$MP_BIN" generate "$m" --tokens $p --greedy 0 --logits --threads 16 >"$T/t16" &&
		[ -s "$T/t1" ] && cmp -s "$T/t1" "$T/t3" && cmp -s "$T/t1" "$T/t16" &&
		ok "logits identical with 1, 3 and 16 threads: ${m##*/}" ||
		fail "logits differ with the thread count: ${m##*/}"
done
expect 2 "--threads needs 0..1024" generate "$ST" --tokens 1 --threads -1
# Batching: input_output runs all its probes in as few forward passes as
# its activation budget allows; the sgemm of another row count may round
# differently (OpenBLAS picks its kernels by size), so 342 sequences in one
# call and in calls of 1, 7 and 128 agree within 1e-5 of the largest
# |logit|, not bit for bit.
for m in "$FX/gguf/model-q4_k_m.gguf" "$FX/gguf/parent" "$ST"; do
	out=$("$MP_LLM_IO" --batches "$m" 342 1 7 128 2>&1) &&
		echo "$out" | awk '{ if ($NF + 0 > 1e-5) bad = 1 } END { exit bad || NR != 3 }' &&
		ok "batches of 1, 7, 128 vs one call of 342: ${m##*/}: $(echo "$out" | tr '\n' ';')" ||
		fail "batching changes the logits of ${m##*/}: $out"
done

[ "$FAILS" -eq 0 ]
