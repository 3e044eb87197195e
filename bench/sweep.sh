#!/bin/sh
# bench/sweep.sh — `modelprint sweep` (TN, logit cosine and frequency JS
# matrices and accuracies) on a synthesised sweep of 64 models, P = 64,
# d = 1..64, noise 0.01 (`sweep synth`), against bench/sweep_ref.py (the
# seed's algorithm with torch: explicit (P, 2P, 2P) tensors, a forward
# pass, eigh and rfft) in the same run; the reference also checks that its
# matrices agree with ours (max abs diff, <= 1e-8). Wall and CPU (user +
# sys) time include starting and reading the files; medians of BENCH_RUNS
# (default 3) runs, warm cache; peak RSS over the runs. On a loaded machine
# the CPU ratio is the fairer. Target: < 5 s. Env: MP_BIN (set by `make
# bench`), BENCH_DIR (default /tmp/modelprint-bench), BENCH_RUNS,
# BENCH_REF_RUNS (default BENCH_RUNS). Needs /usr/bin/python3 with numpy
# and torch (see HACKING).
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}/sweep
runs=${BENCH_RUNS:-3}
ref_runs=${BENCH_REF_RUNS:-$runs}
py=/usr/bin/python3
src=$(dirname "$0")
mkdir -p "$dir"
. "$src/lib.sh"
$py -c 'import numpy, torch' 2>/dev/null || {
	echo "bench-sweep: needs $py with numpy and torch (apt-get install python3-torch)" >&2
	exit 1
}
man=$dir/s/manifest.json
[ -s "$man" ] || "$MP_BIN" sweep synth --p 64 --dims 1..64 --noise 0.01 --out "$dir/s" > /dev/null
"$MP_BIN" sweep "$man" --json > "$dir/ours.json"
echo "modelprint sweep benchmark: 64 models, P = 64, d = 1..64, noise 0.01, n-evecs 4"
echo "($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg), wall and CPU medians of $runs runs, reference of $ref_runs, warm cache, peak RSS)"
$py "$src/sweep_ref.py" "$man" --check "$dir/ours.json" 2> "$dir/check.out" || {
	cat "$dir/check.out" >&2
	echo "bench-sweep: the reference's matrices differ from ours" >&2
	exit 1
}
echo "agreement with the reference: $(tr '\n' ',' < "$dir/check.out" | sed 's/,$//; s/,/, /g')"
runs=$ref_runs
median $py "$src/sweep_ref.py" "$man"
ref=$MEDIAN ref_cpu=$MEDIAN_CPU ref_rss=$RSS_KB
runs=${BENCH_RUNS:-3}
median "$MP_BIN" sweep "$man"
verdict=$(awk "BEGIN{print ($MEDIAN < 5) ? \"ok\" : \"OVER TARGET\"}")
printf '%-16s %5.2f s (target < 5 s), CPU %5.2f s, RSS %3.0f MB | reference %6.2f s, CPU %6.2f s, RSS %3.0f MB | %5sx (CPU %sx)  %s\n' \
	"sweep P=64 n=64" "$MEDIAN" "$MEDIAN_CPU" "$(awk "BEGIN{print $RSS_KB/1024}")" \
	"$ref" "$ref_cpu" "$(awk "BEGIN{print $ref_rss/1024}")" \
	"$(awk "BEGIN{printf \"%.1f\", $ref / $MEDIAN}")" "$(awk "BEGIN{printf \"%.1f\", $ref_cpu / $MEDIAN_CPU}")" "$verdict"
[ "$verdict" = ok ]
