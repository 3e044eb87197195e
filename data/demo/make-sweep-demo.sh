#!/bin/sh
# data/demo/make-sweep-demo.sh — rebuild the demo sweep (issue 12) with
# modelprint itself: `sweep synth` writes 13 synthesised bilinear models of
# modular addition mod 13 (d = 1..13, Gaussian noise 0.02, seed 1) as
# safetensors files and their manifest into data/demo/sweep, and `sweep
# --output-dir` writes their similarity matrices, model info and sweep.json
# into data/demo/sweep/results. Called from nothing else; tests/sweep.sh
# checks the committed results are reproduced. Rerun from the source root
# after `make` (and commit the changes) with:
#   sh data/demo/make-sweep-demo.sh
set -eu
top=$(pwd)
mp="$top/src/modelprint"
demo="$top/data/demo/sweep"
rm -rf "$demo"
"$mp" sweep synth --p 13 --dims 1..13 --noise 0.02 --seed 1 --out "$demo" \
	>/dev/null
(cd "$demo" && "$mp" sweep manifest.json --output-dir results >/dev/null)
du -sk "$demo"
