#!/bin/sh
# bench/matrix.sh — the all-pairs spectral/js matrix of 20,000 generated
# fingerprints (families of 50) and its binary similarity-matrix file:
# the js cost per pair from a block of rows against all 20,000 (the whole
# 2e8 pairs would take minutes on one core: projected, and for 100,000
# models), the whole matrix of the first BENCH_DENSE models computed,
# written as float32 and float64 and read back (seconds, MB, peak RSS),
# and the interface's heatmap frame time on it. The in-memory matrix
# takes 16 bytes a cell (a double and a reason pointer), so a dense
# 20,000-model matrix needs 6.4 GB of memory: the dense part runs at
# BENCH_DENSE (default 4000) and sizes are projected from it.
# Env: MP_MATBENCH, MP_TUIFRAME (set by `make bench`), BENCH_DIR (default
# /tmp/modelprint-bench), BENCH_MODELS (20000), BENCH_BLOCK (500 rows),
# BENCH_DENSE (4000).
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}/matrix
runs=1
models=${BENCH_MODELS:-20000}
block=${BENCH_BLOCK:-500}
dense=${BENCH_DENSE:-4000}
mkdir -p "$dir"
. "$(dirname "$0")/lib.sh"

echo "binary similarity matrix benchmark: $models generated spectral fingerprints ($(nproc) CPUs)"
"$MP_MATBENCH" gen "$models" "$block" "$dense" "$dir"
for f in m32 m64; do
	best "$MP_MATBENCH" read "$dir/$f.mpsim"
	printf 'read %s.mpsim (%d models): %.2f s wall, peak RSS %.0f MB\n' "$f" "$dense" "$BEST" \
		"$(awk "BEGIN{print $RSS_KB/1024}")"
done
awk -v d="$dense" 'BEGIN{printf "projected: 20000 models %.0f MB float32 (%.0f times the %d-model file), 100000 models %.0f GB float32\n", 20000*20000*4/1e6, (20000/d)^2, d, 1e10*4/1e9}'
"$MP_TUIFRAME" "$dir/m32.mpsim" 200
