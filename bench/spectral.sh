#!/bin/sh
# bench/spectral.sh — `modelprint fingerprint --method spectral` against
# bench/spectral_ref.py (the same algorithm in numpy, float32 products,
# OpenBLAS) on the 877 MB F32 model of 2 layers of TinyLlama shapes
# (genmodel F32 2 tinyllama: 16 matrices, the largest 32,000 x 2,048),
# interleaved A B A B (BENCH_RUNS rounds, default 3), best and median wall,
# median CPU, peak RSS, ratio of the medians (target <= 0.5); the top-10
# singular values of both compared (exact: same values; randomized: the
# two sketches differ, so the randomized error shows). numpy runs with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, as a user would; its
# OpenBLAS kernel is printed. MP_BIN_BEFORE (a former modelprint) adds a
# command to the rounds; BENCH_NUMPY_KERNEL (e.g. SkylakeX) another, numpy
# with OPENBLAS_CORETYPE set to it (the kernel modelprint picks). Then per-matrix costs of each shape class
# (one thread) and the projection to a 7B model.
# Env: MP_BIN, MP_GENMODEL (set by `make bench`), BENCH_DIR (default
# /tmp/modelprint-bench), BENCH_RUNS. Needs /usr/bin/python3 with numpy.
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}/spectral
runs=${BENCH_RUNS:-3}
py=/usr/bin/python3
src=$(dirname "$0")
mkdir -p "$dir"
. "$src/lib.sh"
$py -c 'import numpy' 2>/dev/null || {
	echo "bench-spectral: needs $py with numpy (apt-get install python3-numpy)" >&2
	exit 1
}
f="$dir/tinyllama-F32.safetensors"
[ -s "$f" ] || "$MP_GENMODEL" "$f" F32 2 tinyllama
cat "$f" > /dev/null
ref="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $py $src/spectral_ref.py"
mb() { awk "BEGIN{printf \"%.0f\", $1/1024}"; }

echo "modelprint spectral benchmark: $(awk "BEGIN{printf \"%.0f\", $(stat -c %s "$f")/1e6}") MB F32, 2 layers of TinyLlama shapes"
echo "($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg), $runs interleaved rounds, warm cache)"
echo "modelprint: $("$MP_BIN" --version | sed -n 2p)"
$ref --show-config | sed 's/^/numpy peer: /'
set -- "$MP_BIN fingerprint --method spectral -o $dir/mp.json $f" "$ref $f --json $dir/np.json"
before=0 kern=0
if [ -n "${MP_BIN_BEFORE:-}" ]; then
	set -- "$@" "$MP_BIN_BEFORE fingerprint --method spectral -o $dir/before.json $f"
	before=$#
fi
if [ -n "${BENCH_NUMPY_KERNEL:-}" ]; then
	set -- "$@" "env OPENBLAS_CORETYPE=$BENCH_NUMPY_KERNEL $py $src/spectral_ref.py $f"
	kern=$#
fi
interleaved "$runs" "$@"
row() { # label i
	eval "printf '%-22s best %6.2f s  median %6.2f s  CPU %6.2f s  peak RSS %5s MB\n' \"\$1\" \$BEST_$2 \$MEDIAN_$2 \$CPU_$2 \$(mb \$RSS_$2)"
}
row "modelprint" 1
row "numpy (same algorithm)" 2
[ $before = 0 ] || row "modelprint before" $before
[ $kern = 0 ] || row "numpy, $BENCH_NUMPY_KERNEL" $kern
ratio=$(awk "BEGIN{printf \"%.2f\", $MEDIAN_1 / $MEDIAN_2}")
cratio=$(awk "BEGIN{printf \"%.2f\", $CPU_1 / $CPU_2}")
verdict=$(awk "BEGIN{print ($ratio <= 0.5) ? \"ok\" : \"OVER TARGET\"}")
echo "ratio of medians modelprint / numpy: $ratio (CPU $cratio; target <= 0.5)  $verdict"
echo "top-10 singular values, largest relative difference modelprint vs numpy: $($py "$src/spectral_cmp.py" "$dir/mp.json" "$dir/np.json" 10)"
[ $before = 0 ] || echo "modelprint vs before (same sketch), all values: $($py "$src/spectral_cmp.py" "$dir/mp.json" "$dir/before.json" 256)"

echo "per-matrix costs (one thread, one file per shape class):"
: > "$dir/costs"
$py "$src/spectral_classes.py" split "$f" "$dir" | while read -r r c cf; do
	/usr/bin/time -f '%U %S' -o "$dir/time.out" "$MP_BIN" fingerprint --method spectral --threads 1 "$cf" > /dev/null
	read -r u s < "$dir/time.out"
	echo "$r $c $(awk "BEGIN{print $u + $s}")" >> "$dir/costs"
done
$py "$src/spectral_classes.py" project "$dir/costs" "$(nproc)"
[ "$verdict" = ok ]
