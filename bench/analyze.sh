#!/bin/sh
# bench/analyze.sh — `modelprint analyze` and `correlate` on a generated
# 2,000-model results file (40 families, two metrics: about 2 million pairs
# each, 160 MB of JSON). Target: analyze, with every report written, in
# under 2 s. Env: MP_BIN, MP_GENMATRIX (set by `make bench`), BENCH_DIR
# (default /tmp/modelprint-bench), BENCH_RUNS (default 3: best of N),
# BENCH_MODELS (default 2000).
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}/analyze
runs=${BENCH_RUNS:-3}
models=${BENCH_MODELS:-2000}
mkdir -p "$dir"
. "$(dirname "$0")/lib.sh"

if [ ! -s "$dir/similarity_matrices.json" ] || [ "$(cat "$dir/models" 2>/dev/null)" != "$models" ]; then
	"$MP_GENMATRIX" "$dir" "$models" 40 2
	echo "$models" > "$dir/models"
fi
cat "$dir/similarity_matrices.json" > /dev/null

timed() { # label target-seconds command...: best wall time and peak RSS
	label=$1 target=$2; shift 2
	best "$@"
	verdict=$(awk "BEGIN{print ($BEST <= $target) ? \"ok\" : \"OVER TARGET\"}")
	printf '%-34s %6.2f s (target <= %s s)  peak RSS %4.0f MB  %s\n' "$label" "$BEST" \
		"$target" "$(awk "BEGIN{print $RSS_KB/1024}")" "$verdict"
}

size=$(stat -c %s "$dir/similarity_matrices.json")
echo "modelprint analyze benchmark: $models models, 40 families, $(awk "BEGIN{printf \"%.0f\", $size/1e6}") MB results file ($(nproc) CPUs, best of $runs, warm cache)"
timed "analyze (tables only)" 2 "$MP_BIN" analyze --results-file "$dir/similarity_matrices.json" \
	--model-info "$dir/model-info.json"
timed "analyze --output-dir (all reports)" 2 "$MP_BIN" analyze --results-file "$dir/similarity_matrices.json" \
	--model-info "$dir/model-info.json" --output-dir "$dir/out"
timed "analyze --json" 2 "$MP_BIN" analyze --results-file "$dir/similarity_matrices.json" \
	--model-info "$dir/model-info.json" --json
timed "correlate l1,spectral/js" 2 "$MP_BIN" correlate --results-file "$dir/similarity_matrices.json" \
	--metrics l1,spectral/js
