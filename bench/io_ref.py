#!/usr/bin/python3
"""io_ref.py — the torch peer of bench/io.sh: seed 000's input_output
fingerprint (man modelprint-methods(7)) of a LLaMA-family Hugging Face
directory (config.json + model.safetensors, BF16 or F32), written from the
published equations, not from modelprint's code.

  io_ref.py MODEL_DIR PROBES TARGETS [--bytes] [--n0 N] [--json OUT]
  io_ref.py --compare A.json B.json      l1 of two fingerprint vectors
  io_ref.py --show-config                torch's version and threads

The forward pass runs in torch float32 on the CPU (one thread a CPU),
one batch per probe length (all probes at once when each is one token),
BF16 weights widened to float32
as modelprint does; the fingerprint math (V, U, pinv, eigenvalues) in
numpy float64. List entries: `#123` a raw id; with --bytes any other line
is its UTF-8 bytes as ids 0..255 (the byte-level tokenizer.json without
merges that bench/io.sh writes); without it text entries are an error.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_grad_enabled(False)
# As many threads as modelprint uses (its OpenBLAS: one a CPU); Debian's
# torch here defaults to omp_get_max_threads(), which can be 1.
torch.set_num_threads(len(os.sched_getaffinity(0)))


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        raw = np.fromfile(f, dtype=np.uint8)
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        if v["dtype"] == "BF16":
            u = raw[a:b].view("<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            assert v["dtype"] == "F32", v["dtype"]
            arr = raw[a:b].view("<f4")
        out[k] = torch.from_numpy(arr.reshape(v["shape"]))
    return out


def read_list(path, byte_tok):
    seen, out = set(), []
    for line in open(path, encoding="utf-8", newline="\n"):
        line = line.rstrip("\n")
        if line.endswith("\r"):
            line = line[:-1]
        if not line or line in seen:
            continue
        seen.add(line)
        if line.startswith("#") and line[1:].isdigit():
            out.append([int(line[1:])])
        elif byte_tok:
            out.append(list(line.encode("utf-8")))
        else:
            sys.exit("io_ref.py: %s: text entry without --bytes" % path)
    return out


def rms(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, f):
    # x [B, T, H, hd]; Hugging Face's rotate-half
    T = x.shape[1]
    a = torch.arange(T, dtype=torch.float32)[:, None] * f[None, :]
    cos = torch.cat([a.cos(), a.cos()], -1)[None, :, None, :]
    sin = torch.cat([a.sin(), a.sin()], -1)[None, :, None, :]
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


def last_logits(c, W, probes):
    """Logits at each probe's last position, [len(probes), vocab]: one
    batch per probe length (no padding computed)."""
    out = [None] * len(probes)
    for n in sorted(set(map(len, probes))):
        idx = [i for i, p in enumerate(probes) if len(p) == n]
        z = batch_logits(c, W, [probes[i] for i in idx])
        for r, i in enumerate(idx):
            out[i] = z[r]
    return torch.stack(out)


def batch_logits(c, W, probes):
    """Logits at the last position of probes of one length."""
    dim, H = c["hidden_size"], c["num_attention_heads"]
    KV = c.get("num_key_value_heads", H)
    hd = c.get("head_dim", dim // H)
    eps = c.get("rms_norm_eps", 1e-6)
    theta = c.get("rope_theta", 10000.0)
    f = (1.0 / theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)).float()
    B, T = len(probes), max(len(p) for p in probes)
    ids = torch.zeros(B, T, dtype=torch.long)
    for i, p in enumerate(probes):
        ids[i, :len(p)] = torch.tensor(p)
    x = W["model.embed_tokens.weight"][ids]  # [B, T, dim]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for l in range(c["num_hidden_layers"]):
        g = lambda n: W["model.layers.%d.%s" % (l, n)]
        h = rms(x, g("input_layernorm.weight"), eps)
        q = rope((h @ g("self_attn.q_proj.weight").T).reshape(B, T, H, hd), f)
        k = rope((h @ g("self_attn.k_proj.weight").T).reshape(B, T, KV, hd), f)
        v = (h @ g("self_attn.v_proj.weight").T).reshape(B, T, KV, hd)
        k = k.repeat_interleave(H // KV, dim=2)
        v = v.repeat_interleave(H // KV, dim=2)
        s = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(hd)
        p = torch.softmax(s.masked_fill(mask, float("-inf")), -1)
        a = torch.einsum("bhij,bjhd->bihd", p, v).reshape(B, T, H * hd)
        x = x + a @ g("self_attn.o_proj.weight").T
        h = rms(x, g("post_attention_layernorm.weight"), eps)
        gate = h @ g("mlp.gate_proj.weight").T
        up = h @ g("mlp.up_proj.weight").T
        x = x + (torch.nn.functional.silu(gate) * up) @ g("mlp.down_proj.weight").T
    last = torch.tensor([len(p) - 1 for p in probes])
    xl = rms(x[torch.arange(B), last], W["model.norm.weight"], eps)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return xl @ head.T


def fingerprint(E, logits, probes, targets, n0):
    n = E.shape[1]
    V = np.zeros((n, len(probes)))
    U = np.zeros((n, len(probes)))
    Et = E[targets]  # [targets, n]
    for i, t in enumerate(probes):
        V[:, i] = np.mean([E[tok] + np.sin(p) for p, tok in enumerate(t)], 0)
        z = logits[i]
        pr = np.exp(z - z.max())
        pr /= pr.sum()
        U[:, i] = pr[targets] @ Et
    A = U @ np.linalg.pinv(V)
    ev = np.sort(np.abs(np.linalg.eigvals(A)))[::-1][:min(n0, n)][::-1]
    return ev / np.linalg.norm(ev)


def l1(a, b):
    a, b = np.sort(np.asarray(a)), np.sort(np.asarray(b))
    return 1 - np.abs(a - b).sum() / (np.abs(a).sum() + np.abs(b).sum())


def vector(path):
    return json.load(open(path))["fingerprints"][0]["vector"]


def main(a):
    if a and a[0] == "--show-config":
        print(torch.__version__, torch.get_num_threads(), "threads")
        return
    if a and a[0] == "--compare":
        print("%.6f" % l1(vector(a[1]), vector(a[2])))
        return
    byte_tok = "--bytes" in a
    a = [x for x in a if x != "--bytes"]
    n0, out = 40, None
    if "--n0" in a:
        i = a.index("--n0")
        n0 = int(a[i + 1])
        del a[i:i + 2]
    if "--json" in a:
        i = a.index("--json")
        out = a[i + 1]
        del a[i:i + 2]
    d, pf, tf = a
    c = json.load(open(os.path.join(d, "config.json")))
    W = read_safetensors(os.path.join(d, "model.safetensors"))
    vocab = W["model.embed_tokens.weight"].shape[0]
    probes = [[t for t in p if t < vocab] for p in read_list(pf, byte_tok)]
    probes = [p for p in probes if p]
    targets = []
    for t in read_list(tf, byte_tok):
        if t[0] < vocab and t[0] not in targets:
            targets.append(t[0])
    logits = last_logits(c, W, probes).double().numpy()
    E = W["model.embed_tokens.weight"].double().numpy()
    fp = fingerprint(E, logits, probes, targets, n0)
    if out:
        json.dump({"fingerprints": [{"method": "input_output",
                                     "probes": len(probes),
                                     "tokens": sum(map(len, probes)),
                                     "targets": len(targets),
                                     "vector": fp.tolist()}]},
                  open(out, "w"))


if __name__ == "__main__":
    main(sys.argv[1:])
