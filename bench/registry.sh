#!/bin/sh
# bench/registry.sh — the registry at scale: bench/regbench adds N generated
# one-tensor models (fingerprinted, method tensors) to a fresh SQLite
# registry and, when tests/pgserver.sh is there, to a throw-away PostgreSQL
# server (or the database of $MP_PG_URL when set), then `registry list
# --family F` through the CLI at N models. Targets: time per add at the
# N-th model within 2x of the 1,000th; list --family and one fingerprint
# load under 50 ms. Env: MP_BIN, MP_REGBENCH, MP_SRCDIR (set by `make
# bench`), MP_BENCH_REG_N (default 100000), BENCH_RUNS (default 3: best of
# N for the CLI), BENCH_DIR (default: a temporary directory, removed at the
# end).
set -eu
n=${MP_BENCH_REG_N:-100000}
runs=${BENCH_RUNS:-3}
dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/mpregbench.XXXXXX")
pg_up=
trap '[ -z "$pg_up" ] || pg_stop; rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"

cli_list() { # label LOC: best wall time of `registry list --family fam7`
	best "$MP_BIN" registry --registry "$2" list --family fam7
	verdict=$(awk "BEGIN{print ($BEST <= 0.05) ? \"ok\" : \"OVER TARGET\"}")
	printf '%s: CLI registry list --family fam7: %.2f s (target <= 0.05 s, process start included)  peak RSS %.0f MB  %s\n' \
		"$1" "$BEST" "$(awk "BEGIN{print $RSS_KB/1024}")" "$verdict"
}

echo "modelprint registry benchmark: $n one-tensor models, 100 families ($(nproc) CPUs)"
echo "== SQLite ($dir/sqlite/registry.db)"
mkdir -p "$dir/files"
"$MP_REGBENCH" "$dir/sqlite" "$dir/files" "$n"
cli_list SQLite "$dir/sqlite"
echo "database: $(du -sh "$dir/sqlite" | cut -f1)"

url=${MP_PG_URL:-}
if [ -z "$url" ] && [ -f "$MP_SRCDIR/tests/pgserver.sh" ]; then
	. "$MP_SRCDIR/tests/pgserver.sh"
	pg_start
	pg_up=1
	url=$MP_PG_URL
fi
if [ -z "$url" ]; then
	echo "== PostgreSQL: skipped (no MP_PG_URL and no tests/pgserver.sh)"
	exit 0
fi
echo "== PostgreSQL"
"$MP_BIN" registry --global-registry "$url" init >/dev/null
"$MP_REGBENCH" "$url" "$dir/files" "$n"
cli_list PostgreSQL "$url"
