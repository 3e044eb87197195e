#!/bin/sh
# tests/tokenizer.sh — `modelprint tokenize` against llama.cpp's vocabulary
# tests (../shared/fixtures/tokenizer: every string of the .inp must give
# the ids of the .out), tokenizer.json files built from the GPT-2
# vocabulary (GPT-2, LLaMA-3 and Qwen2 pre-tokenizers) against a python
# reference (tests/tokenizer/bpe_ref.py: the regex module and the published
# BPE), a SentencePiece tokenizer.json written by hand, and hostile input.
. "$MP_SRCDIR/tests/lib.sh"
python3 -c "import regex" 2>/dev/null || { echo "FAIL: no python3-regex"; exit 1; }
FX=${MP_FIXTURES:-$MP_SRCDIR/../shared/fixtures}
F=$FX/tokenizer
D=$MP_SRCDIR/tests/tokenizer
[ -f "$F/ggml-vocab-gpt-2.gguf" ] || { echo "FAIL: no fixtures in $F"; exit 1; }

# check NAME COMMAND...: ok when COMMAND succeeds, else fail with its output
check() {
	name=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$name: $(tail -n 1 "$T/out")"
	else fail "$name: $(cat "$T/out")"; fi
}

for v in llama-spm phi-3 gpt-2; do
	check "$v" python3 "$D/fixture.py" "$MP_BIN" "$F/ggml-vocab-$v.gguf" \
		"$F/ggml-vocab-$v.gguf.inp" "$F/ggml-vocab-$v.gguf.out"
done

for p in gpt2 llama3 qwen2; do
	python3 "$D/gguf2json.py" "$F/ggml-vocab-gpt-2.gguf" $p "$T/$p.json"
	for inp in "$F/ggml-vocab-gpt-2.gguf.inp" "$D/extra.inp"; do
		python3 "$D/bpe_ref.py" "$T/$p.json" "$inp" >"$T/ref.out"
		check "$p tokenizer.json, $(basename "$inp")" python3 \
			"$D/fixture.py" "$MP_BIN" "$T/$p.json" "$inp" "$T/ref.out"
	done
done
check "gpt2 tokenizer.json = llama.cpp" python3 "$D/fixture.py" "$MP_BIN" \
	"$T/gpt2.json" "$F/ggml-vocab-gpt-2.gguf.inp" "$F/ggml-vocab-gpt-2.gguf.out"

# expect NAME WANT MP-ARGS...: stdout of modelprint MP-ARGS is WANT
expect() {
	name=$1 want=$2; shift 2
	got=$("$MP_BIN" "$@" 2>"$T/err") || { fail "$name: $(cat "$T/err")"; return; }
	[ "$got" = "$want" ] && ok "$name" || fail "$name: want '$want', got '$got'"
}
# refuse NAME PATTERN MP-ARGS...: one error line matching PATTERN, exit 1
refuse() {
	name=$1 pat=$2; shift 2
	if "$MP_BIN" "$@" >"$T/o" 2>"$T/err"; then fail "$name: accepted"
	elif [ $? -ne 1 ]; then fail "$name: exit status not 1: $(cat "$T/err")"
	elif [ "$(wc -l <"$T/err")" -ne 1 ] || ! grep -q -- "$pat" "$T/err"
	then fail "$name: $(cat "$T/err")"
	else ok "$name: $(cat "$T/err")"; fi
}

# A model's own GGUF metadata (the LLaMA-2 vocabulary: ▁Hello 15043,
# ▁world 3186, <s> 1, <0xFF> 258 in its token list).
G=$FX/gguf/llama-2-tiny-random.gguf
expect "GGUF model" "15043 3186" tokenize "$G" "Hello world"
expect "GGUF model --bos" "1 15043 3186" tokenize --bos "$G" "Hello world"
expect "SPM invalid UTF-8 byte" "29871 258" tokenize "$G" "$(printf '\377')"
expect "--pieces" "15043:▁Hello 3186:▁world" tokenize --pieces "$G" "Hello world"
expect "two texts" "$(printf '15043\n3186')" tokenize "$G" Hello world
# GPT-2: byte 0xFF is the character ÿ, token 187
expect "byte-level invalid UTF-8" "187" tokenize "$F/ggml-vocab-gpt-2.gguf" "$(printf '\377')"
refuse "no tokenizer" "no tokenizer" tokenize "$FX/gguf/parent" "Hello"

# A SentencePiece tokenizer.json by hand, beside a safetensors model:
# "ab abc!" is ▁ab▁abc! (Prepend, Replace): ▁+a (rank 0), then ▁a+b
# (rank 2): ▁ab ▁ab, then c, and ! by byte fallback <0x21>; é has no
# byte tokens for both of its bytes, so <unk>.
mkdir "$T/m"
model_a "$T/m/model.safetensors"
cat >"$T/m/tokenizer.json" <<'JSON'
{"version": "1.0", "added_tokens": [{"id": 1, "content": "<s>", "special": true}],
 "normalizer": {"type": "Sequence", "normalizers": [
   {"type": "Prepend", "prepend": "▁"},
   {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
 "pre_tokenizer": null,
 "post_processor": {"type": "TemplateProcessing", "single": [
   {"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]},
 "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true,
   "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x21>": 3, "▁": 4, "a": 5,
     "b": 6, "▁a": 7, "ab": 8, "▁ab": 9, "c": 10, "<0xC3>": 11},
   "merges": ["▁ a", "a b", "▁a b"]}}
JSON
expect "SPM tokenizer.json" "9 9 10 3" tokenize "$T/m" "ab abc!"
expect "SPM tokenizer.json --bos" "1 4 0" tokenize --bos "$T/m/tokenizer.json" "é"
# merge order decides: with "a b" first, ▁ a b gives ▁ ab (no "▁ ab" merge)
sed 's/"merges": \["▁ a", "a b", "▁a b"\]/"merges": ["a b", "▁ a", "▁a b"]/' \
	"$T/m/tokenizer.json" >"$T/rank.json"
expect "merge rank" "4 8" tokenize "$T/rank.json" "ab"
"$MP_BIN" tokenize --json "$T/m" "ab" >"$T/j" 2>"$T/err" &&
python3 - "$T/j" <<'PY' && ok "--json" || fail "--json: $(cat "$T/j" "$T/err")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tokenizer"] == "llama" and d["vocab_size"] == 12, d
assert d["texts"] == [{"text": "ab", "ids": [9], "pieces": ["▁ab"]}], d
PY

# The kinds
for k in "$F/ggml-vocab-gpt-2.gguf:gpt2/gpt-2" "$T/llama3.json:gpt2/llama-bpe" \
	"$T/qwen2.json:gpt2/qwen2" "$F/ggml-vocab-phi-3.gguf:llama"; do
	"$MP_BIN" tokenize --json "${k%:*}" "" >"$T/j" 2>"$T/err" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d['tokenizer'] != sys.argv[2])" \
		"$T/j" "${k##*:}" && ok "kind ${k##*:}" || fail "kind of ${k%:*}: $(cat "$T/j" "$T/err")"
done

# Hostile tokenizers and texts
head -c 300 "$T/m/tokenizer.json" >"$T/cut.json"
refuse "truncated tokenizer.json" "cut.json" tokenize "$T/cut.json" "a"
sed 's/"▁a b"/"▁a zz"/' "$T/m/tokenizer.json" >"$T/unk.json"
refuse "merge of an unknown token" "not in the vocabulary" tokenize "$T/unk.json" "a"
sed 's/"type": "BPE"/"type": "Unigram"/' "$T/m/tokenizer.json" >"$T/uni.json"
refuse "Unigram model" "not BPE" tokenize "$T/uni.json" "a"
sed 's/"b": 6/"b": 5/' "$T/m/tokenizer.json" >"$T/dup.json"
refuse "id given twice" "given twice" tokenize "$T/dup.json" "a"
sed 's/"c": 10/"c": -3/' "$T/m/tokenizer.json" >"$T/neg.json"
refuse "negative id" "no valid id" tokenize "$T/neg.json" "a"
sed 's/"c": 10/"c": 2000000000/' "$T/m/tokenizer.json" >"$T/big.json"
refuse "huge id" "ids must be 0 to N-1" tokenize "$T/big.json" "a"
head -c 100000 "$F/ggml-vocab-gpt-2.gguf" >"$T/cut.gguf"
refuse "truncated GGUF" "cut.gguf" tokenize "$T/cut.gguf" "a"
# three invalid bytes form one word of "other" characters; its BPE by the
# published algorithm in python (byte map, merge ranks): 222 158 224
expect "lone continuation and cut sequence bytes" "222 158 224" \
	tokenize "$F/ggml-vocab-gpt-2.gguf" "$(printf '\200\342\202')"
"$MP_BIN" tokenize --help >"$T/o" && grep -q -- --pieces "$T/o" && ok "--help" ||
	fail "--help"
rc=0; "$MP_BIN" tokenize "$G" >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] && ok "no TEXT: usage" || fail "no TEXT: exit status $rc, not 2"
[ "$FAILS" -eq 0 ]
