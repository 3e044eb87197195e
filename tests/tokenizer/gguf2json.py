#!/usr/bin/env python3
"""Write a Hugging Face tokenizer.json (BPE, ByteLevel) from the vocabulary
of a byte-level GGUF (tokenizer.ggml.tokens and merges), with the
pre-tokenizer of PRE (gpt2: ByteLevel's own regex; llama3, qwen2: a Split
by their pattern, then ByteLevel without regex).
usage: gguf2json.py VOCAB.gguf PRE OUT.json"""
import json
import struct
import sys

PATTERNS = {
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}


def gguf_kv(path):
    d = open(path, "rb").read()
    p = [24]
    def take(n):
        v = d[p[0]:p[0] + n]
        p[0] += n
        return v
    def u32(): return struct.unpack("<I", take(4))[0]
    def u64(): return struct.unpack("<Q", take(8))[0]
    fm = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
          10: "Q", 11: "q", 12: "d"}
    def val(t):
        if t == 8:
            return take(u64()).decode("utf-8")
        if t == 9:
            et, n = u32(), u64()
            return [val(et) for _ in range(n)]
        return struct.unpack("<" + fm[t], take(struct.calcsize(fm[t])))[0]
    nkv = struct.unpack("<Q", d[16:24])[0]
    kv = {}
    for _ in range(nkv):
        k = take(u64()).decode()
        kv[k] = val(u32())
    return kv


if __name__ == "__main__":
    src, pre, out = sys.argv[1:]
    kv = gguf_kv(src)
    toks = kv["tokenizer.ggml.tokens"]
    bl = {"type": "ByteLevel", "add_prefix_space": False,
          "trim_offsets": True, "use_regex": pre == "gpt2"}
    pt = bl if pre == "gpt2" else {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": PATTERNS[pre]},
         "behavior": "Isolated", "invert": False}, bl]}
    doc = {"version": "1.0", "added_tokens": [], "normalizer": None,
           "pre_tokenizer": pt, "post_processor": None,
           "decoder": {"type": "ByteLevel"},
           "model": {"type": "BPE", "dropout": None, "unk_token": None,
                     "byte_fallback": False,
                     "ignore_merges": pre == "llama3",
                     "vocab": {t: i for i, t in enumerate(toks)},
                     "merges": kv["tokenizer.ggml.merges"]}}
    json.dump(doc, open(out, "w", encoding="utf-8"), ensure_ascii=False)
