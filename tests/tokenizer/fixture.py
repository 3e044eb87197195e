#!/usr/bin/env python3
"""Run every string of a llama.cpp vocabulary test (.inp: strings separated
by lines __ggml_vocab_test__) through `modelprint tokenize` and compare with
the .out (one line of ids per string). Prints "matched K of N"; exit 1 on
any mismatch.  usage: fixture.py MODELPRINT TOKENIZER TEXTS.inp IDS.out"""
import subprocess
import sys

mp, vocab, inpf, outf = sys.argv[1:5]
inp = open(inpf, "rb").read().decode("utf-8")
sep = "\n__ggml_vocab_test__\n"
texts = inp.split(sep)
assert texts[-1] == "", "the .inp must end with a separator"
texts = texts[:-1]
want = open(outf, encoding="ascii").read().split("\n")
assert want[-1] == ""
want = [w.split() for w in want[:-1]]
assert len(want) == len(texts), (len(want), len(texts))
r = subprocess.run([mp, "tokenize", vocab] + texts, capture_output=True)
if r.returncode != 0:
    sys.exit("tokenize failed: " + r.stderr.decode(errors="replace"))
got = [g.split() for g in r.stdout.decode().split("\n")[:-1]]
assert len(got) == len(texts), (len(got), len(texts))
bad = 0
for t, w, g in zip(texts, want, got):
    if w != g:
        bad += 1
        print("MISMATCH %r\n  want %s\n  got  %s" % (t, " ".join(w), " ".join(g)))
print("%s on %s: matched %d of %d" % (vocab.split("/")[-1], inpf.split("/")[-1], len(texts) - bad, len(texts)))
sys.exit(1 if bad else 0)
