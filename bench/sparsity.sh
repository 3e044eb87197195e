#!/bin/sh
# bench/sparsity.sh — `modelprint sparsity hamming` (128 nearest of 11,008
# features of width 4,096, 8 clusters) and `sparsity multi --n-executions
# 10` on an 11008x4096 F16 matrix with 50 % unstructured zeros, against
# bench/sparsity_ref.py (the seed's algorithm with torch and scikit-learn)
# in the same run. Wall and CPU (user + sys) time include starting and
# reading the file; medians of BENCH_RUNS (default 5) runs, warm cache;
# peak RSS over the runs. Both read the same torch.save file (m.pt). On a
# loaded machine the CPU ratio is the fairer.
# Targets: hamming < 0.3 s, multi < 3 s, both >= 20x faster than the
# reference. Env: MP_BIN (set by `make bench`), BENCH_DIR (default
# /tmp/modelprint-bench), BENCH_RUNS, BENCH_REF_RUNS (default BENCH_RUNS).
# Needs /usr/bin/python3 with numpy, torch and sklearn (see HACKING).
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}/sparsity
runs=${BENCH_RUNS:-5}
ref_runs=${BENCH_REF_RUNS:-$runs}
py=/usr/bin/python3
src=$(dirname "$0")
mkdir -p "$dir"
. "$src/lib.sh"
$py -c 'import numpy, torch, sklearn' 2>/dev/null || {
	echo "bench-sparsity: needs $py with numpy, torch and sklearn (apt-get install python3-torch python3-sklearn)" >&2
	exit 1
}
[ -s "$dir/m.npy" ] && [ -s "$dir/m.pt" ] || $py "$src/sparsity_gen.py" "$dir/m"
cat "$dir/m.pt" > /dev/null

fail=0
row() { # label target ours-wall ours-cpu ours-rss ref-wall ref-cpu ref-rss
	ratio=$(awk "BEGIN{printf \"%.1f\", $6 / $3}")
	cratio=$(awk "BEGIN{printf \"%.1f\", $7 / $4}")
	verdict=$(awk "BEGIN{print ($3 < $2 && $6 / $3 >= 20) ? \"ok\" : \"OVER TARGET\"}")
	[ "$verdict" = ok ] || fail=1
	printf '%-20s %5.2f s (target < %s s), CPU %5.2f s, RSS %3.0f MB | reference %6.2f s, CPU %6.2f s, RSS %3.0f MB | %5sx (CPU %sx)  %s\n' \
		"$1" "$3" "$2" "$4" "$(awk "BEGIN{print $5/1024}")" "$6" "$7" "$(awk "BEGIN{print $8/1024}")" \
		"$ratio" "$cratio" "$verdict"
}
echo "modelprint sparsity benchmark: 11008 x 4096 F16, 50 % zeros, 128 nearest, 8 clusters, n_init 10"
echo "($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg), wall and CPU medians of $runs runs, reference of $ref_runs, warm cache, peak RSS)"
for mode in hamming multi; do
	if [ $mode = multi ]; then extra="--n-executions 10" target=3; else extra= target=0.3; fi
	runs=$ref_runs
	median $py "$src/sparsity_ref.py" $mode "$dir/m.pt" $extra
	ref=$MEDIAN ref_cpu=$MEDIAN_CPU ref_rss=$RSS_KB
	runs=${BENCH_RUNS:-5}
	median "$MP_BIN" sparsity $mode "$dir/m.pt" --n-features 128 --n-clusters 8 $extra
	row "sparsity $mode${extra:+ x10}" $target "$MEDIAN" "$MEDIAN_CPU" "$RSS_KB" "$ref" "$ref_cpu" "$ref_rss"
done
exit $fail
