#!/bin/sh
# fuzz/build.sh — build the libFuzzer harnesses with clang into fuzz/out and,
# given a number of seconds, run each for that long:
#   fuzz/build.sh [SECONDS]
# Seeds: tests/broken (readers), data/demo (JSON), a small matrix and keys
# (the interface).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/fuzz/out"
mkdir -p "$out"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -I$top/src/core"
LIBS="$(pkg-config --cflags --libs libcjson gsl libcrypto) -lm -pthread"
core=$(ls "$top"/src/core/*.c)
clang $CFLAGS -o "$out/fuzz_safetensors" "$top/fuzz/fuzz_model.c" $core $LIBS
clang $CFLAGS -DFUZZ_TFJS -o "$out/fuzz_tfjs" "$top/fuzz/fuzz_model.c" $core $LIBS
clang $CFLAGS -o "$out/fuzz_json" "$top/fuzz/fuzz_json.c" $core $LIBS
tui=$(ls "$top"/src/tui/*.c | grep -v term_curses)
clang $CFLAGS -I"$top/src/tui" -o "$out/fuzz_tui" "$top/fuzz/fuzz_tui.c" $core $tui $LIBS
if [ $# -gt 0 ]; then
	for h in safetensors tfjs json tui; do
		mkdir -p "$out/corpus-$h"
		case $h in
		safetensors) cp "$top"/tests/broken/st-* "$out/corpus-$h/" 2>/dev/null || true ;;
		tfjs) cp "$top"/tests/broken/tfjs-*.json "$out/corpus-$h/" 2>/dev/null || true ;;
		json) find "$top/data/demo" -name '*.json' -size -200k -exec cp {} "$out/corpus-$h/" \; ;;
		tui) printf '{"matrices":{"tensors":{"cosine":{"models":["a","b","c"],"values":[[1,0.5,null],[0.5,1,0.2],[null,0.2,1]]}},"spectral":{"js":{"models":["a","b"],"values":[[0,0.1],[0.1,0]]}}}}\0002jl+o-m34f\r1s\r?q' > "$out/corpus-$h/seed" ;;
		esac
		"$out/fuzz_$h" -max_total_time="$1" "$out/corpus-$h"
	done
fi
