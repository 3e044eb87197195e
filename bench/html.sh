#!/bin/sh
# bench/html.sh — the HTML pages of a 2,000-model analysis: time to write
# dashboard.html and correlation.html (htmlbench, the core functions alone;
# target 2 s each), then the time headless Chromium takes to load the
# dashboard and run its self-test (zoom, pan, hover, filter 2 million pairs).
# Env: MP_HTMLBENCH, MP_GENMATRIX (set by `make bench`), BENCH_DIR (default
# /tmp/modelprint-bench), BENCH_RUNS (default 3: best of N), BENCH_MODELS
# (default 2000).
set -eu
dir=${BENCH_DIR:-/tmp/modelprint-bench}/html
runs=${BENCH_RUNS:-3}
models=${BENCH_MODELS:-2000}
mkdir -p "$dir/out"
if [ ! -s "$dir/similarity_matrices.json" ] || [ "$(cat "$dir/models" 2>/dev/null)" != "$models" ]; then
	"$MP_GENMATRIX" "$dir" "$models" 40 2
	echo "$models" > "$dir/models"
fi
echo "modelprint HTML benchmark: $models models, 40 families, 2 metrics (best of $runs)"
i=0
while [ $i -lt "$runs" ]; do
	"$MP_HTMLBENCH" "$dir/similarity_matrices.json" "$dir/model-info.json" "$dir/out"
	i=$((i + 1))
done > "$dir/runs.out"
for page in dashboard.html correlation.html; do
	grep "^$page" "$dir/runs.out" | sort -t: -k2 -g | head -1 |
		awk '{ t = $0; sub(/.*: /, "", t); sub(/ s,.*/, "", t);
		       print $0 "  (target <= 2 s)  " (t + 0 <= 2 ? "ok" : "OVER TARGET") }'
done
if command -v chromium >/dev/null; then
	u=$(mktemp -d)
	start=$(date +%s.%N)
	timeout 300 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$u" --window-size=1280,1000 \
		--virtual-time-budget=60000 --dump-dom "file://$dir/out/dashboard.html#selftest=1,2" \
		> "$dir/dom" 2>/dev/null || true
	end=$(date +%s.%N)
	rm -rf "$u"
	init=$(grep -o '"initMs":[0-9]*' "$dir/dom" | cut -d: -f2)
	errs=$(grep -o '"errors":\[[^]]*\]' "$dir/dom" || echo 'no self-test record')
	printf 'chromium: dashboard ready %s ms after navigation, whole run %.1f s, %s\n' \
		"${init:-?}" "$(awk "BEGIN{print $end - $start}")" "$errs"
fi
