#!/bin/sh
# fuzz/build.sh — build the libFuzzer harnesses with clang into fuzz/out and,
# given a number of seconds, seed them (fuzz/seeds.sh) and run each for that
# long, one after the other:
#   fuzz/build.sh                       build only
#   fuzz/build.sh SECONDS [HARNESS...]  build, seed, run (all by default)
# Harnesses: safetensors tfjs pytorch gguf config registry fingerprint results modelinfo
# index tui (see HACKING, "Fuzzing"). Crashes, leaks and hangs (-timeout=10)
# are written to fuzz/out/artifacts/HARNESS/; the corpus grows in
# fuzz/out/corpus-HARNESS. FUZZ_HAZARDS=0 in the environment plants no
# FIFOs and truncates no shards after opening (fuzz_model.c). FUZZ_FLAGS adds
# libFuzzer options to every run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/fuzz/out"
command -v clang >/dev/null 2>&1 || {
	echo "fuzz/build.sh: clang not found; install the Debian package clang" >&2
	exit 1
}
mkdir -p "$out/obj"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
[ -f "$top/config.h" ] || {
	echo "fuzz/build.sh: $top/config.h not found; run ./configure first" >&2
	exit 1
}
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 $SAN -I$top -I$top/src/core -I$top/src/tui"
CFLAGS="$CFLAGS -DMP_DATADIR=\"$top/data\" -DMP_SRCDATADIR=\"$top/data\""
LIBS="$(pkg-config --libs libcjson gsl libcrypto sqlite3 libpq zlib) -lm -pthread"
CFLAGS="$CFLAGS $(pkg-config --cflags libcjson gsl libcrypto sqlite3 libpq zlib)"

# The library once, instrumented for coverage (HTML reports are not used),
# except the numeric kernels (exact order statistics, SVD): tracing every
# comparison of their inner loops made a 200 KB model take seconds, and their
# branches follow the values, not the file's structure. They keep ASan.
objs=
newest_h=$(ls -t "$top"/src/core/*.h "$top"/src/tui/*.h | head -1)
for c in "$top"/src/core/*.c "$top"/src/tui/*.c; do
	case $c in */report_html*.c | */report_sweep*.c | */term_curses.c) continue ;; esac
	o="$out/obj/$(basename "$(dirname "$c")")-$(basename "$c" .c).o"
	case $c in */tstats*.c | */svd.c) cov= ;; *) cov=-fsanitize=fuzzer-no-link ;; esac
	if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ "$newest_h" -nt "$o" ] ||
		[ "$0" -nt "$o" ]; then
		clang $CFLAGS $cov -c -o "$o" "$c"
	fi
	objs="$objs $o"
done
core_objs=$(echo $objs | tr ' ' '\n' | grep '/core-' | tr '\n' ' ')

link() { # name source extra-flags... (tui objects only for fuzz_tui)
	name=$1 src=$2
	shift 2
	clang $CFLAGS -fsanitize=fuzzer "$@" -o "$out/fuzz_$name" "$src" \
		$core_objs $LIBS
}
link safetensors "$top/fuzz/fuzz_model.c"
link tfjs "$top/fuzz/fuzz_model.c" -DFUZZ_TFJS
link pytorch "$top/fuzz/fuzz_model.c" -DFUZZ_TORCH
link gguf "$top/fuzz/fuzz_model.c" -DFUZZ_GGUF
k=1
for h in config registry fingerprint results modelinfo index; do
	link $h "$top/fuzz/fuzz_json.c" -DFUZZ_KIND=$k -DFUZZ_TOP="\"$top\""
	k=$((k + 1))
done
tui_objs=$(echo $objs | tr ' ' '\n' | grep '/tui-' | tr '\n' ' ')
clang $CFLAGS -fsanitize=fuzzer -o "$out/fuzz_tui" "$top/fuzz/fuzz_tui.c" \
	$core_objs $tui_objs $LIBS
echo "fuzz/build.sh: harnesses in $out"

[ $# -gt 0 ] || exit 0
secs=$1
shift
[ $# -gt 0 ] || set -- safetensors tfjs pytorch gguf config registry fingerprint results \
	modelinfo index tui
sh "$top/fuzz/seeds.sh" "$out"
status=0
for h in "$@"; do
	mkdir -p "$out/corpus-$h" "$out/artifacts/$h" "$out/seeds-$h"
	echo "fuzz/build.sh: fuzz_$h for $secs s"
	"$out/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$h/" \
		${FUZZ_FLAGS:-} "$out/corpus-$h" "$out/seeds-$h" \
		>"$out/fuzz_$h.log" 2>&1 || {
		status=1
		echo "fuzz/build.sh: fuzz_$h found something:" \
			"$out/fuzz_$h.log, $out/artifacts/$h/" >&2
	}
	tail -n 12 "$out/fuzz_$h.log" | grep -E 'stat::number_of_executed_units|cov:' | tail -n 2
done
exit $status
