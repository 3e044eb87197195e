#!/bin/sh
# bench/run.sh — fingerprint throughput against `openssl dgst -sha256` of the
# same file, warm cache, measured in the same run; peak RSS from GNU time.
# Env: MP_BIN, MP_GENMODEL (set by `make bench`), BENCH_DIR (default
# /tmp/modelprint-bench), BENCH_RUNS (default 3: best of N).
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}
runs=${BENCH_RUNS:-3}
mkdir -p "$dir"
. "$(dirname "$0")/lib.sh"

one() { # dtype layers limit
	f="$dir/llama-$1.safetensors"
	[ -f "$f" ] || "$MP_GENMODEL" "$f" "$1" "$2"
	size=$(stat -c %s "$f")
	cat "$f" > /dev/null
	best openssl dgst -sha256 "$f"; ossl=$BEST
	best "$MP_BIN" fingerprint --method tensors "$f"; mp=$BEST; rss=$RSS_KB
	ratio=$(awk "BEGIN{printf \"%.2f\", $mp / $ossl}")
	verdict=$(awk "BEGIN{print ($ratio <= $3 && $rss <= 262144) ? \"ok\" : \"OVER TARGET\"}")
	printf '%-5s %6.0f MB  openssl %6.2f s  modelprint %6.2f s  ratio %5.2f (target <= %s)  peak RSS %5.0f MB  %s\n' \
		"$1" "$(awk "BEGIN{print $size/1e6}")" "$ossl" "$mp" "$ratio" "$3" \
		"$(awk "BEGIN{print $rss/1024}")" "$verdict"
}

echo "modelprint fingerprint benchmark ($(nproc) CPUs, best of $runs, warm cache)"
one BF16 23 1.5
one F32 11 3
