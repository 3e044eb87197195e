#!/bin/sh
# bench/gguf.sh — issue 13: the `tensors` fingerprint of a GGUF in a
# Q4_K_M-style mix (bench/gengguf: LLaMA-7B shapes, 5 layers, ~800 MB)
# against a safetensors file of the same size (bench/genmodel, BF16) and
# `openssl dgst -sha256` of each, warm cache. The three commands run
# interleaved (A B C A B C ...), BENCH_RUNS rounds (default 3); best and
# median wall seconds of each, the ratio of medians to openssl, peak RSS
# from GNU time. Target: the GGUF's ratio no worse than the safetensors'
# (x 1.25 for noise), peak RSS <= 256 MB. A Q4_K byte holds about 3
# times as many values as a BF16 byte, so the script also times a BF16
# safetensors file of the same parameter count ("st-params") and prints
# the GGUF's wall time per parameter against it.
# Env: MP_BIN, MP_GENMODEL, MP_GENGGUF (set by `make bench`), BENCH_DIR
# (default /tmp/modelprint-bench), BENCH_RUNS, GGUF_LAYERS (default 5).
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}
runs=${BENCH_RUNS:-3}
mkdir -p "$dir"
. "$(dirname "$0")/lib.sh"

g="$dir/llama-q4_k_m-${GGUF_LAYERS:-5}.gguf"
[ -f "$g" ] || "$MP_GENGGUF" "$g" "${GGUF_LAYERS:-5}"
size=$(stat -c %s "$g")
st="$dir/llama-bf16-$size.safetensors"
[ -f "$st" ] || "$MP_GENMODEL" "$st" BF16 0 "$size"
params=$("$MP_BIN" fingerprint --json --method tensors "$g" |
	tr -d ' \t\n' | sed -n 's/.*"params":\([0-9]*\),.*/\1/p')
[ -n "$params" ] || { echo "bench-gguf: no parameter count in the fingerprint of $g" >&2; exit 1; }
sp="$dir/llama-bf16-params-$params.safetensors"
[ -f "$sp" ] || "$MP_GENMODEL" "$sp" BF16 0 $((2 * params))
cat "$g" "$st" "$sp" >/dev/null

: >"$dir/gguf-times"
r=0
while [ $r -lt "$runs" ]; do
	for what in ossl-gguf gguf ossl-st st ossl-sp sp; do
		case $what in
		ossl-gguf) set -- openssl dgst -sha256 "$g" ;;
		ossl-st) set -- openssl dgst -sha256 "$st" ;;
		gguf) set -- "$MP_BIN" fingerprint --method tensors "$g" ;;
		st) set -- "$MP_BIN" fingerprint --method tensors "$st" ;;
		ossl-sp) set -- openssl dgst -sha256 "$sp" ;;
		sp) set -- "$MP_BIN" fingerprint --method tensors "$sp" ;;
		esac
		/usr/bin/time -f '%e %M' -o "$dir/time.out" "$@" >/dev/null
		read -r t m <"$dir/time.out"
		echo "$what $t $m" >>"$dir/gguf-times"
	done
	r=$((r + 1))
done

stat_of() { # WHAT: sets B (best), M (median) seconds and K (peak RSS, KB)
	awk -v w="$1" '$1 == w {print $2}' "$dir/gguf-times" >"$dir/one"
	B=$(sort -n "$dir/one" | head -1)
	M=$(median_of "$dir/one")
	K=$(awk -v w="$1" '$1 == w && $3 > k {k = $3} END {print k + 0}' \
		"$dir/gguf-times")
}

echo "modelprint GGUF fingerprint benchmark ($(nproc) CPUs, $runs interleaved rounds, warm cache)"
printf '%-12s %8s MB\n' "GGUF" "$(awk "BEGIN{printf \"%.0f\", $size/1e6}")"
printf '%-12s %8s MB\n' "safetensors" "$(awk "BEGIN{printf \"%.0f\", $(stat -c %s "$st")/1e6}")"
printf '%-12s %8s MB  (%s parameters, as the GGUF)\n' "st-params" "$(awk "BEGIN{printf \"%.0f\", $(stat -c %s "$sp")/1e6}")" "$params"
for pair in "gguf ossl-gguf GGUF" "st ossl-st safetensors" "sp ossl-sp st-params"; do
	set -- $pair
	stat_of "$2"; ob=$B; om=$M
	stat_of "$1"
	ratio=$(awk "BEGIN{printf \"%.2f\", $M / $om}")
	eval "ratio_$1=$ratio; rss_$1=$K; median_$1=$M"
	printf '%-12s openssl best %6.2f median %6.2f s  modelprint best %6.2f median %6.2f s  ratio %5.2f  peak RSS %5.0f MB\n' \
		"$3" "$ob" "$om" "$B" "$M" "$ratio" "$(awk "BEGIN{print $K/1024}")"
done
verdict=$(awk "BEGIN{print ($ratio_gguf <= $ratio_st * 1.25 && $rss_gguf <= 262144) ? \"ok\" : \"OVER TARGET\"}")
echo "GGUF/safetensors ratio of ratios $(awk "BEGIN{printf \"%.2f\", $ratio_gguf / $ratio_st}") (target <= 1.25, RSS <= 256 MB): $verdict"
echo "per parameter: GGUF $(awk "BEGIN{printf \"%.2f\", $median_gguf / $params * 1e9}") s, BF16 safetensors $(awk "BEGIN{printf \"%.2f\", $median_sp / $params * 1e9}") s a billion; GGUF/BF16 $(awk "BEGIN{printf \"%.2f\", $median_gguf / $median_sp}")"
