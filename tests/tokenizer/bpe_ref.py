#!/usr/bin/env python3
"""Reference byte-level BPE (the published GPT-2 algorithm, with the regex
module for the pre-tokenizer pattern): the ids of each text, one line per
text of TEXTS.inp (strings separated by lines __ggml_vocab_test__, as
llama.cpp's vocabulary tests).  usage: bpe_ref.py TOKENIZER.json TEXTS.inp"""
import json
import sys

import regex

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


def byte_map():
    bs = list(range(ord("!"), ord("~") + 1)) + \
        list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def main():
    doc = json.load(open(sys.argv[1], encoding="utf-8"))
    m = doc["model"]
    vocab, ranks = m["vocab"], {}
    for i, mg in enumerate(m["merges"]):
        ranks.setdefault(tuple(mg.split(" ")), i)
    pt = doc["pre_tokenizer"]
    pat = GPT2 if pt["type"] == "ByteLevel" else \
        pt["pretokenizers"][0]["pattern"]["Regex"]
    bm = byte_map()
    texts = open(sys.argv[2], encoding="utf-8", newline="").read().split(
        "\n__ggml_vocab_test__\n")[:-1]
    for text in texts:
        ids = []
        for w in regex.findall(pat, text):
            word = "".join(bm[b] for b in w.encode("utf-8"))
            if m.get("ignore_merges") and word in vocab:
                ids.append(vocab[word])
                continue
            parts = list(word)
            while len(parts) > 1:
                best = min(range(len(parts) - 1),
                           key=lambda i: (ranks.get((parts[i], parts[i + 1]),
                                                    1 << 60), i))
                if (parts[best], parts[best + 1]) not in ranks:
                    break
                parts[best:best + 2] = [parts[best] + parts[best + 1]]
            ids += [vocab[p] for p in parts]
        print(" ".join(map(str, ids)))


main()
