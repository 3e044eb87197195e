#!/bin/sh
# bench/io.sh — `modelprint fingerprint --method input_output` on a
# LLaMA-shaped model of 0.85 B parameters (hidden 2048, 16 layers, 32 heads,
# 8 key/value heads of 64, FFN 5632, vocab 32000; random weights of std
# 0.02, norms about 1) in BF16 (genmodel llama1b: Hugging Face layout,
# model.safetensors + config.json, 1.7 GB) and as a Q4_K_M-style GGUF
# (gengguf 16 llama1b: other random values, same shapes, 0.54 GB), against
# bench/io_ref.py (torch float32 on the CPU, one batch per probe length, the
# fingerprint math in numpy) on the BF16 model, interleaved (BENCH_RUNS
# rounds, default 2), warm cache. Two probe lists, each with 47 raw target
# ids: 342 one-token probes (raw ids `#N`, as many as data/io_tokens has),
# and data/io_tokens/probe_tokens.txt itself read with a byte-level
# tokenizer.json without merges written beside the model (one token a byte,
# so multi-token probes). Reports median wall, CPU, probe tokens per second,
# peak RSS, and two lower bounds with the ratio of the wall time to each:
# the memory-bandwidth bound, bytes of weights read (the file size times
# the forward passes: modelprint makes as few as fit its activation budget,
# llm_io.c's BUDGET, 256 MiB) divided by the read bandwidth of
# `cat FILE > /dev/null` from page cache; and the arithmetic bound, the
# multiply-adds of the pass (2 x 721 M layer weights x probe tokens + 2 x
# 65.5 M classifier weights x probes) divided by the sgemm rate
# bench/sgemmbench measures on these shapes with modelprint's kernel
# (blas.c), in the same rounds. The fingerprints agree (l1 of modelprint's
# and torch's vectors).
# Env: MP_BIN, MP_GENMODEL, MP_GENGGUF, MP_SGEMMBENCH (set by `make
# bench-io`), BENCH_DIR
# (default /tmp/modelprint-bench), BENCH_RUNS, MP_BIN_BEFORE (a former
# modelprint: one more command in the rounds). Needs /usr/bin/python3 with
# numpy and torch (python3-numpy, python3-torch).
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}/io
runs=${BENCH_RUNS:-2}
py=/usr/bin/python3
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/bf16"
. "$src/lib.sh"
$py -c 'import numpy, torch' 2>/dev/null || {
	echo "bench-io: needs $py with numpy and torch (apt-get install python3-numpy python3-torch)" >&2
	exit 1
}
md="$dir/bf16"
g="$dir/model-Q4_K.gguf"
[ -s "$md/model.safetensors" ] || "$MP_GENMODEL" "$md/model.safetensors" BF16 16 llama1b
[ -s "$g" ] || "$MP_GENGGUF" "$g" 16 llama1b
cat > "$md/config.json" <<'JSON'
{"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "max_position_embeddings": 2048, "tie_word_embeddings": false, "torch_dtype": "bfloat16"}
JSON
# A byte-level BPE without merges: byte b is token b (GPT-2's byte-to-
# character map), so a probe of k UTF-8 bytes is k tokens.
$py - "$md/tokenizer.json" <<'PY'
import json, sys
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs, k = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + k); k += 1
vocab = {chr(c): b for b, c in zip(bs, cs)}
json.dump({"version": "1.0", "added_tokens": [], "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                             "trim_offsets": True, "use_regex": True},
           "model": {"type": "BPE", "vocab": vocab, "merges": []}},
          open(sys.argv[1], "w"))
PY
awk 'BEGIN{for(i=0;i<342;i++) print "#" (i*7919+13)%32000}' > "$dir/probes-raw.txt"
awk 'BEGIN{for(j=0;j<47;j++) print "#" (j*104729+7)%32000}' > "$dir/targets-raw.txt"
text="$src/../data/io_tokens/probe_tokens.txt"
ntext=$($py -c 'import sys; s=[]; [s.append(l.rstrip("\r\n")) for l in open(sys.argv[1], encoding="utf-8") if l.rstrip("\r\n") and l.rstrip("\r\n") not in s]; print(len(s), sum(len(x.encode()) for x in s), len(set(len(x.encode()) for x in s)))' "$text")
set -- $ntext
nprobe_text=$1 tok_text=$2 nlen_text=$3
cat "$md/model.safetensors" "$g" > /dev/null
bw() { # FILE: GB/s of cat FILE > /dev/null from page cache (best of 3)
	b=
	for _ in 1 2 3; do
		/usr/bin/time -f '%e' -o "$dir/bw.out" cat "$1" > /dev/null
		t=$(cat "$dir/bw.out")
		if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
	done
	awk "BEGIN{t = $b < 0.01 ? 0.01 : $b; printf \"%.2f\", $(stat -c %s "$1") / t / 1e9}"
}
bw_m=$(bw "$md/model.safetensors")
mp() { # FILE PROBES OUT
	echo "$MP_BIN fingerprint --method input_output --arg probe_tokens_path=$2 --arg target_tokens_path=$dir/targets-raw.txt -o $3 $1"
}
echo "modelprint input_output benchmark: $(awk "BEGIN{printf \"%.2f\", $(stat -c %s "$md/model.safetensors")/1e9}") GB BF16, $(awk "BEGIN{printf \"%.2f\", $(stat -c %s "$g")/1e9}") GB Q4_K GGUF, 0.85 B parameters"
echo "($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg), $runs interleaved rounds, warm cache; cat from page cache $bw_m GB/s)"
echo "modelprint: $("$MP_BIN" --version | sed -n 2p); torch $($py "$src/io_ref.py" --show-config)"
pr="$dir/probes-raw.txt"
set -- "$(mp "$md/model.safetensors" "$pr" "$dir/mp-bf16.json")" \
	"$(mp "$g" "$pr" "$dir/mp-q4k.json")" \
	"$py $src/io_ref.py $md $pr $dir/targets-raw.txt --json $dir/torch.json" \
	"$(mp "$md/model.safetensors" "$text" "$dir/mp-bf16-text.json")" \
	"$py $src/io_ref.py $md $text $dir/targets-raw.txt --bytes --json $dir/torch-text.json"
before=0
if [ -n "${MP_BIN_BEFORE:-}" ]; then
	set -- "$@" "$MP_BIN_BEFORE fingerprint --method input_output --arg probe_tokens_path=$pr --arg target_tokens_path=$dir/targets-raw.txt -o $dir/before.json $md/model.safetensors"
	before=$#
fi
# The sgemm rate on one layer's shapes and the classifier's, M = the probe
# tokens (one line per round, GFLOP/s then the kernel).
shapes="2048x2048 512x2048 512x2048 2048x2048 5632x2048 5632x2048 2048x5632 4096x2048"
: > "$dir/sgemm-1.txt"; : > "$dir/sgemm-text.txt"
set -- "$@" "$MP_SGEMMBENCH 342 2 $shapes >> $dir/sgemm-1.txt" \
	"$MP_SGEMMBENCH $tok_text 2 $shapes >> $dir/sgemm-text.txt"
interleaved "$runs" "$@"
gf_1=$(cut -d' ' -f1 "$dir/sgemm-1.txt" > "$dir/gf" && median_of "$dir/gf")
gf_text=$(cut -d' ' -f1 "$dir/sgemm-text.txt" > "$dir/gf" && median_of "$dir/gf")
kernel=$(cut -d' ' -f2 "$dir/sgemm-1.txt" | head -n 1)
# Forward passes modelprint makes (about: llm_io.c's pass_end fills each
# pass greedily) from mp_llm_forward_bytes for these shapes (2 threads'
# attention scratch) and the logits.
passes() { # PROBES TOKENS
	awk "BEGIN{per = (2048 * 2 + 3072 + 2048 + 2 * 5632) * 4 + 8 + 16
		b = $2 * per + $1 * (2048 + 32000) * 4; p = int(b / (256 * 1048576)) + 1
		print p}"
}
flops() { # TOKENS PROBES
	awk "BEGIN{print 2 * (16 * (2 * 2048 * 2048 + 2 * 512 * 2048 + 3 * 5632 * 2048) * $1 + 32000 * 2048 * $2)}"
}
row() { # label i file tokens passes probes gflops
	eval "w=\$MEDIAN_$2 c=\$CPU_$2 r=\$RSS_$2"
	bound=$(awk "BEGIN{printf \"%.2f\", $(stat -c %s "$3") * $5 / ($bw_m * 1e9)}")
	ab=$(awk "BEGIN{printf \"%.2f\", $(flops "$4" "$6") / ($7 * 1e9)}")
	printf '%-34s %7.2f s  CPU %7.2f s  %7.1f tok/s  RSS %5.0f MB  bw %5.2f s x%-5.1f  arith %6.2f s x%.2f\n' \
		"$1" "$w" "$c" "$(awk "BEGIN{print $4 / $w}")" "$(awk "BEGIN{print $r / 1024}")" \
		"$bound" "$(awk "BEGIN{print $w / $bound}")" "$ab" "$(awk "BEGIN{print $w / $ab}")"
}
echo "                                    median      CPU (user+sys)   probe tok/s   peak RSS   bounds: weights/bandwidth, flops/sgemm rate (ratio)"
row "modelprint BF16, 342 x 1 token" 1 "$md/model.safetensors" 342 "$(passes 342 342)" 342 "$gf_1"
row "modelprint Q4_K, 342 x 1 token" 2 "$g" 342 "$(passes 342 342)" 342 "$gf_1"
row "torch BF16->f32, 342 x 1 token" 3 "$md/model.safetensors" 342 1 342 "$gf_1"
row "modelprint BF16, $nprobe_text text probes" 4 "$md/model.safetensors" "$tok_text" "$(passes "$nprobe_text" "$tok_text")" "$nprobe_text" "$gf_text"
row "torch BF16->f32, $nprobe_text text probes" 5 "$md/model.safetensors" "$tok_text" "$nlen_text" "$nprobe_text" "$gf_text"
[ $before = 0 ] || row "modelprint before, BF16 1 token" $before "$md/model.safetensors" 342 "$(passes 342 342)" 342 "$gf_1"
echo "($tok_text probe tokens in the $nprobe_text text probes; bw bound: the file read once per forward pass, $(passes 342 342) and $(passes "$nprobe_text" "$tok_text") passes for modelprint; torch one pass, $nlen_text for the text probes, one per length)"
echo "(arith bound: $(awk "BEGIN{printf \"%.0f\", $(flops 342 342) / 1e9}") and $(awk "BEGIN{printf \"%.0f\", $(flops "$tok_text" "$nprobe_text") / 1e9}") GFLOP at the sgemm rate $gf_1 and $gf_text GFLOP/s, kernel $kernel)"
for k in one-token text; do
	if [ $k = text ]; then t=$tok_text p=$nprobe_text gf=$gf_text; else t=342 p=342 gf=$gf_1; fi
	awk "BEGIN{a = $(flops "$t" "$p") / ($gf * 1e9); b = $(stat -c %s "$md/model.safetensors") * $(passes "$p" "$t") / ($bw_m * 1e9)
		printf \"%s probes: arithmetic bound %.2f s = %.1fx the BF16 bandwidth bound %.2f s: %s\\n\", \"$k\", a, a / b, b,
			(a > 2 * b ? \"within 2x of the bandwidth bound is out of reach on this machine\" : \"the bandwidth target is reachable\")}"
done
echo "ratio of medians modelprint / torch: one token $(awk "BEGIN{printf \"%.2f\", $MEDIAN_1 / $MEDIAN_3}"), text $(awk "BEGIN{printf \"%.2f\", $MEDIAN_4 / $MEDIAN_5}") (target <= 1)"
echo "fingerprints, l1 modelprint vs torch: one token $($py "$src/io_ref.py" --compare "$dir/mp-bf16.json" "$dir/torch.json"), text $($py "$src/io_ref.py" --compare "$dir/mp-bf16-text.json" "$dir/torch-text.json")"
