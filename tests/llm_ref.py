#!/usr/bin/python3
"""llm_ref.py — an independent reference for modelprint's forward pass and
input_output fingerprint, written from the published architecture
equations (LLaMA, Qwen2, Gemma, Phi-3, GPT-2) in torch, float64.

  llm_ref.py make DIR            write small random HF-layout models (numpy:
                                 model.safetensors + config.json) into DIR/*
  llm_ref.py gguf SRC OUT [KEY=F...]  SRC (HF layout) as a llama.cpp-style
                                 GGUF, extra float metadata appended
  llm_ref.py logits MODEL IDS    logits at the last position, one line
  llm_ref.py greedy MODEL IDS N  the next N greedy ids
  llm_ref.py io MODEL PROBES TARGETS N0   input_output fingerprint (numpy),
                                 PROBES "1,2;3,4,5" and TARGETS "7,8"
  llm_ref.py check FIXTURES WORK   every comparison tests/llm.sh makes, in
                                 one process: runs $MP_BIN generate and
                                 $MP_LLM_IO, prints ok/FAIL lines, exits 1
                                 on any failure

MODEL: an HF directory (config.json + model.safetensors) or a llama2.c .bin.
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import torch

torch.set_grad_enabled(False)
D = torch.float64


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", v["dtype"]
        a, b = v["data_offsets"]
        arr = np.frombuffer(raw[base + a:base + b], dtype="<f4").reshape(v["shape"])
        out[k] = torch.tensor(arr.astype(np.float64))
    return out


def write_safetensors(path, tensors):
    hdr, blobs, off = {}, [], 0
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k], dtype="<f4")
        hdr[k] = {"dtype": "F32", "shape": list(a.shape),
                  "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_llama2c(path):
    raw = open(path, "rb").read()
    dim, hid, L, H, KV, V, S = struct.unpack("<7i", raw[:28])
    shared = V > 0
    V = abs(V)
    f = np.frombuffer(raw[28:], dtype="<f4").astype(np.float64)
    hs = dim // H
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        a = f[pos:pos + n].reshape(shape)
        pos += n
        return torch.tensor(a)
    W = {"emb": take(V, dim), "n1": take(L, dim), "wq": take(L, dim, dim),
         "wk": take(L, KV * hs, dim), "wv": take(L, KV * hs, dim),
         "wo": take(L, dim, dim), "n2": take(L, dim),
         "w1": take(L, hid, dim), "w2": take(L, dim, hid),
         "w3": take(L, hid, dim), "norm": take(dim)}
    pos += S * hs  # the legacy cos and sin tables, S * hs / 2 each
    W["head"] = W["emb"] if shared else take(V, dim)
    assert pos == f.size
    cfg = {"dim": dim, "L": L, "H": H, "KV": KV, "hd": hs, "eps": 1e-5,
           "theta": 10000.0, "V": V}
    return cfg, W


def rms(x, w, eps, plus1=False):
    y = x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps)
    return y * ((1 + w) if plus1 else w)


def layernorm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def yarn_mscale(s, m=1.0):
    return 1.0 if s <= 1 else 0.1 * m * math.log(s) + 1.0


def inv_freqs(hd, theta, rs, c=None, T=0):
    """Hugging Face's rotary frequencies for rotary dimension hd and the
    attention factor cos and sin are scaled by (modeling_rope_utils:
    default, linear, llama3, yarn, longrope), for a sequence of T tokens."""
    f = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=D) / hd)
    if not rs:
        return f, 1.0
    t = rs.get("rope_type", rs.get("type"))
    if t == "linear":
        return f / rs["factor"], 1.0
    if t == "yarn":
        fac = rs["factor"]
        orig = rs.get("original_max_position_embeddings") or c["max_position_embeddings"]
        af = rs.get("attention_factor")
        ms, ma = rs.get("mscale"), rs.get("mscale_all_dim")
        if af is None:
            af = (yarn_mscale(fac, ms) / yarn_mscale(fac, ma) if ms and ma
                  else yarn_mscale(fac))
        bf, bs = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1
        corr = lambda n: hd * math.log(orig / (n * 2 * math.pi)) / (2 * math.log(theta))
        lo, hi = max(math.floor(corr(bf)), 0), min(math.ceil(corr(bs)), hd - 1)
        if lo == hi:
            hi += 0.001
        ramp = ((torch.arange(hd // 2, dtype=D) - lo) / (hi - lo)).clamp(0, 1)
        ex = 1 - ramp
        return f / fac * (1 - ex) + f * ex, af
    if t in ("longrope", "su"):
        mx = c["max_position_embeddings"]
        orig = c.get("original_max_position_embeddings")
        fac = rs.get("factor", 1.0)
        if orig:
            fac = mx / orig
        else:
            orig = mx
        af = rs.get("attention_factor")
        if af is None:
            af = 1.0 if fac <= 1 else math.sqrt(1 + math.log(fac) / math.log(orig))
        ext = rs["long_factor"] if T > orig else rs["short_factor"]
        return f / torch.tensor(ext, dtype=D), af
    assert t == "llama3"
    fac, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    wl = 2 * math.pi / f
    out = torch.where(wl > old / lo, f / fac, f)
    sm = (old / wl - lo) / (hi - lo)
    mid = (wl <= old / lo) & (wl >= old / hi)
    return torch.where(mid, (1 - sm) * f / fac + sm * f, out), 1.0


def rope_half(x, pos, f, af=1.0):
    """Hugging Face: rotate the two halves of the first 2 len(f)
    components of each head vector, cos and sin scaled by af."""
    rd = 2 * f.shape[0]
    a = pos[:, None] * f[None, :]
    cos = torch.cat([a.cos(), a.cos()], -1) * af
    sin = torch.cat([a.sin(), a.sin()], -1) * af
    xr, xp = x[..., :rd], x[..., rd:]
    h = rd // 2
    rot = torch.cat([-xr[..., h:], xr[..., :h]], -1)
    return torch.cat([xr * cos[None] + rot * sin[None], xp], -1)


def rope_pairs(x, pos, f):
    """Meta / llama2.c: rotate adjacent pairs as complex numbers."""
    a = pos[:, None] * f[None, :]
    z = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2).contiguous())
    z = z * torch.polar(torch.ones_like(a), a)[None]
    return torch.view_as_real(z).reshape(x.shape)


def attention(q, k, v, H, KV):
    # q [T, H, hd], k/v [T, KV, hd]
    T, _, hd = q.shape
    k = k.repeat_interleave(H // KV, dim=1)
    v = v.repeat_interleave(H // KV, dim=1)
    s = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(hd)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    s = s.masked_fill(mask[None], float("-inf"))
    p = torch.softmax(s, -1)
    return torch.einsum("hij,jhd->ihd", p, v).reshape(T, H * hd)


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward_llama2c(cfg, W, ids):
    pos = torch.arange(len(ids), dtype=D)
    f, _ = inv_freqs(cfg["hd"], cfg["theta"], None)
    H, KV, hd = cfg["H"], cfg["KV"], cfg["hd"]
    x = W["emb"][ids]
    for l in range(cfg["L"]):
        h = rms(x, W["n1"][l], cfg["eps"])
        q = (h @ W["wq"][l].T).reshape(-1, H, hd).transpose(0, 1)
        k = (h @ W["wk"][l].T).reshape(-1, KV, hd).transpose(0, 1)
        v = (h @ W["wv"][l].T).reshape(-1, KV, hd)
        q = rope_pairs(q, pos, f).transpose(0, 1)
        k = rope_pairs(k, pos, f).transpose(0, 1)
        x = x + attention(q, k, v, H, KV) @ W["wo"][l].T
        h = rms(x, W["n2"][l], cfg["eps"])
        g = h @ W["w1"][l].T
        x = x + ((g * torch.sigmoid(g)) * (h @ W["w3"][l].T)) @ W["w2"][l].T
    return rms(x, W["norm"], cfg["eps"]) @ W["head"].T


def forward_hf(c, W, ids):
    mt = c["model_type"]
    T = len(ids)
    pos = torch.arange(T, dtype=D)
    if mt == "gpt2":
        p = "transformer." if "transformer.wte.weight" in W else ""
        E = W[p + "wte.weight"]
        eps = c.get("layer_norm_epsilon", 1e-5)
        H = c["n_head"]
        x = E[ids] + W[p + "wpe.weight"][:T]
        for l in range(c["n_layer"]):
            g = lambda n: W["%sh.%d.%s" % (p, l, n)]
            h = layernorm(x, g("ln_1.weight"), g("ln_1.bias"), eps)
            qkv = h @ g("attn.c_attn.weight") + g("attn.c_attn.bias")
            q, k, v = qkv.split(c["n_embd"], -1)
            hd = c["n_embd"] // H
            a = attention(q.reshape(T, H, hd), k.reshape(T, H, hd),
                          v.reshape(T, H, hd), H, H)
            x = x + a @ g("attn.c_proj.weight") + g("attn.c_proj.bias")
            h = layernorm(x, g("ln_2.weight"), g("ln_2.bias"), eps)
            m = gelu_tanh(h @ g("mlp.c_fc.weight") + g("mlp.c_fc.bias"))
            x = x + m @ g("mlp.c_proj.weight") + g("mlp.c_proj.bias")
        x = layernorm(x, W[p + "ln_f.weight"], W[p + "ln_f.bias"], eps)
        return x @ W.get("lm_head.weight", E).T
    dim, H = c["hidden_size"], c["num_attention_heads"]
    KV = c.get("num_key_value_heads", H)
    hd = c.get("head_dim", dim // H)
    eps = c.get("rms_norm_eps", 1e-6)
    gemma = mt == "gemma"
    rd = int(hd * c.get("partial_rotary_factor", 1.0))
    f, af = inv_freqs(rd, c.get("rope_theta", 10000.0), c.get("rope_scaling"), c, T)
    E = W["model.embed_tokens.weight"]
    x = E[ids]
    if gemma:
        x = x * torch.tensor(dim ** 0.5, dtype=torch.float32).to(D)
    act = gelu_tanh if gemma else (lambda z: z * torch.sigmoid(z))
    for l in range(c["num_hidden_layers"]):
        g = lambda n: W["model.layers.%d.%s" % (l, n)]
        o = lambda n: W.get("model.layers.%d.%s" % (l, n), 0)
        h = rms(x, g("input_layernorm.weight"), eps, gemma)
        if mt == "phi3":
            qkv = h @ g("self_attn.qkv_proj.weight").T
            q, k, v = qkv.split([H * hd, KV * hd, KV * hd], -1)
        else:
            q = h @ g("self_attn.q_proj.weight").T + o("self_attn.q_proj.bias")
            k = h @ g("self_attn.k_proj.weight").T + o("self_attn.k_proj.bias")
            v = h @ g("self_attn.v_proj.weight").T + o("self_attn.v_proj.bias")
        q = rope_half(q.reshape(T, H, hd).transpose(0, 1), pos, f, af).transpose(0, 1)
        k = rope_half(k.reshape(T, KV, hd).transpose(0, 1), pos, f, af).transpose(0, 1)
        a = attention(q, k, v.reshape(T, KV, hd), H, KV)
        x = x + a @ g("self_attn.o_proj.weight").T
        h = rms(x, g("post_attention_layernorm.weight"), eps, gemma)
        if mt == "phi3":
            gate, up = (h @ g("mlp.gate_up_proj.weight").T).chunk(2, -1)
        else:
            gate = h @ g("mlp.gate_proj.weight").T
            up = h @ g("mlp.up_proj.weight").T
        x = x + (act(gate) * up) @ g("mlp.down_proj.weight").T
    x = rms(x, W["model.norm.weight"], eps, gemma)
    return x @ W.get("lm_head.weight", E).T


def load(path, quant=None):
    if os.path.isdir(path):
        c = json.load(open(os.path.join(path, "config.json")))
        W = read_safetensors(os.path.join(path, "model.safetensors"))
        if quant:
            W = {k: quant(v) if v.dim() == 2 else v for k, v in W.items()}
        emb = W.get("model.embed_tokens.weight",
                    W.get("transformer.wte.weight", W.get("wte.weight")))
        return (lambda ids: forward_hf(c, W, ids)), emb
    cfg, W = read_llama2c(path)
    return (lambda ids: forward_llama2c(cfg, W, ids)), W["emb"]


def make(root):
    rng = np.random.default_rng(14)
    r = lambda *s: rng.normal(0, 0.2, s)
    V, d, L, hid = 61, 32, 2, 48

    def llama_like(name, mt, extra, H=4, KV=2, hd=8, gemma=False,
                   bias=False, fused=False, tied=False):
        c = {"model_type": mt, "hidden_size": d, "intermediate_size": hid,
             "num_hidden_layers": L, "num_attention_heads": H,
             "num_key_value_heads": KV, "vocab_size": V,
             "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
             "max_position_embeddings": 64, "tie_word_embeddings": tied}
        c.update(extra)
        W = {"model.embed_tokens.weight": r(V, d),
             "model.norm.weight": (0 if gemma else 1) + r(d)}
        for l in range(L):
            p = "model.layers.%d." % l
            W[p + "input_layernorm.weight"] = (0 if gemma else 1) + r(d)
            W[p + "post_attention_layernorm.weight"] = (0 if gemma else 1) + r(d)
            if fused:
                W[p + "self_attn.qkv_proj.weight"] = r((H + 2 * KV) * hd, d)
                W[p + "mlp.gate_up_proj.weight"] = r(2 * hid, d)
            else:
                W[p + "self_attn.q_proj.weight"] = r(H * hd, d)
                W[p + "self_attn.k_proj.weight"] = r(KV * hd, d)
                W[p + "self_attn.v_proj.weight"] = r(KV * hd, d)
                W[p + "mlp.gate_proj.weight"] = r(hid, d)
                W[p + "mlp.up_proj.weight"] = r(hid, d)
            if bias:
                W[p + "self_attn.q_proj.bias"] = r(H * hd)
                W[p + "self_attn.k_proj.bias"] = r(KV * hd)
                W[p + "self_attn.v_proj.bias"] = r(KV * hd)
            W[p + "self_attn.o_proj.weight"] = r(d, H * hd)
            W[p + "mlp.down_proj.weight"] = r(d, hid)
        if not tied:
            W["lm_head.weight"] = r(V, d)
        save(name, c, W)

    def save(name, c, W):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        json.dump(c, open(os.path.join(root, name, "config.json"), "w"))
        write_safetensors(os.path.join(root, name, "model.safetensors"), W)

    llama_like("qwen2", "qwen2", {}, bias=True)
    llama_like("gemma", "gemma", {"head_dim": 16}, hd=16, gemma=True,
               tied=True)
    llama_like("phi3", "phi3", {}, H=4, KV=4, fused=True)
    llama_like("llama3", "llama", {"rope_theta": 500000.0, "rope_scaling": {
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 16}},
        tied=True)
    llama_like("linear", "mistral", {"rope_scaling": {"type": "linear",
                                                      "factor": 2.0}})
    # YaRN as Qwen2 configurations use it: max_position_embeddings is
    # factor x original (Hugging Face versions differ on which they read);
    # head_dim 16 and theta 100 put the ramp across frequencies 0..3.
    llama_like("yarn", "qwen2", {"head_dim": 16, "rope_theta": 100.0,
                                 "rope_scaling": {
                                     "type": "yarn", "factor": 2.0,
                                     "original_max_position_embeddings": 32}},
               hd=16, bias=True)
    # and with its optional keys: betas, attention_factor (the converter
    # writes rope.scaling.yarn_beta_fast/slow, yarn_attn_factor).
    llama_like("yarn_keys", "qwen2", {"head_dim": 16, "rope_theta": 100.0,
                                      "rope_scaling": {
                                          "type": "yarn", "factor": 2.0,
                                          "original_max_position_embeddings": 32,
                                          "beta_fast": 16.0, "beta_slow": 2.0,
                                          "attention_factor": 1.2}},
               hd=16, bias=True)
    # Phi-3 longrope: short factors up to 16 tokens, long beyond.
    llama_like("longrope", "phi3", {
        "original_max_position_embeddings": 16, "rope_scaling": {
            "type": "longrope",
            "short_factor": list(1 + rng.uniform(0, 0.5, 4)),
            "long_factor": list(1 + rng.uniform(0, 7, 4))}},
        H=4, KV=4, fused=True)
    # Phi-3-architecture with partial rotary (as Phi-4-mini): the first
    # half of each head rotates.
    llama_like("partial", "phi3", {"partial_rotary_factor": 0.5}, H=4, KV=4,
               fused=True)
    c = {"model_type": "gpt2", "n_embd": d, "n_layer": L, "n_head": 4,
         "n_positions": 64, "vocab_size": V, "layer_norm_epsilon": 1e-5}
    W = {"transformer.wte.weight": r(V, d), "transformer.wpe.weight": r(64, d),
         "transformer.ln_f.weight": 1 + r(d), "transformer.ln_f.bias": r(d)}
    for l in range(L):
        p = "transformer.h.%d." % l
        W[p + "ln_1.weight"] = 1 + r(d)
        W[p + "ln_1.bias"] = r(d)
        W[p + "ln_2.weight"] = 1 + r(d)
        W[p + "ln_2.bias"] = r(d)
        W[p + "attn.c_attn.weight"] = r(d, 3 * d)
        W[p + "attn.c_attn.bias"] = r(3 * d)
        W[p + "attn.c_proj.weight"] = r(d, d)
        W[p + "attn.c_proj.bias"] = r(d)
        W[p + "mlp.c_fc.weight"] = r(d, 4 * d)
        W[p + "mlp.c_fc.bias"] = r(4 * d)
        W[p + "mlp.c_proj.weight"] = r(4 * d, d)
        W[p + "mlp.c_proj.bias"] = r(d)
    save("gpt2", c, W)


def io(fwd, E, probes, targets, n0):
    """Seed 000's input_output fingerprint, in numpy (issue 14 steps 2-3)."""
    E = E.numpy()
    n = E.shape[1]
    V = np.zeros((n, len(probes)))
    U = np.zeros((n, len(probes)))
    for i, t in enumerate(probes):
        V[:, i] = np.mean([E[tok] + np.sin(p) for p, tok in enumerate(t)], 0)
        z = fwd(torch.tensor(t))[-1].numpy()
        pr = np.exp(z - z.max())
        pr /= pr.sum()
        U[:, i] = sum(pr[j] * E[j] for j in targets)
    A = U @ np.linalg.pinv(V)
    ev = np.sort(np.abs(np.linalg.eigvals(A)))[::-1][:min(n0, n)][::-1]
    return ev / np.linalg.norm(ev)


def f16(w):
    return torch.tensor(w.numpy().astype(np.float32).astype(np.float16).astype(np.float64))


def q8_0(w):
    """ggml's quantize_row_q8_0_ref then dequantize: blocks of 32 along a
    row, d = amax / 127 kept as float16, q = roundf(x / d)."""
    x = w.numpy().astype(np.float32).reshape(-1, 32)
    d = np.abs(x).max(1, keepdims=True) / np.float32(127)
    inv = np.where(d > 0, np.float32(1) / np.where(d > 0, d, 1), 0).astype(np.float32)
    q = np.sign(x * inv) * np.floor(np.abs(x * inv) + np.float32(0.5))
    y = q * d.astype(np.float16).astype(np.float32)
    return torch.tensor(y.reshape(w.shape).astype(np.float64))


def gguf_write(path, kv, T):
    """A GGUF v3 file: metadata kv [(key, value)] (str, int as u32, float
    as f32) and float32 tensors T {name: array}, data aligned to 32."""
    s = lambda x: struct.pack("<Q", len(x)) + x.encode()
    out = b"GGUF" + struct.pack("<IQQ", 3, len(T), len(kv))
    for k, v in kv:
        if isinstance(v, str):
            out += s(k) + struct.pack("<I", 8) + s(v)
        elif isinstance(v, int):
            out += s(k) + struct.pack("<II", 4, v)
        else:
            out += s(k) + struct.pack("<If", 6, v)
    data = b""
    for name, w in T.items():
        a = np.ascontiguousarray(w, dtype="<f4")
        out += s(name) + struct.pack("<I", a.ndim) + struct.pack("<%dQ" % a.ndim, *reversed(a.shape))
        out += struct.pack("<IQ", 0, len(data))
        data += a.tobytes() + b"\0" * (-a.nbytes % 32)
    out += b"\0" * (-len(out) % 32)
    open(path, "wb").write(out + data)


def llama3_factors(c, hd):
    """Llama 3.1's rope_scaling as the factors llama.cpp's converter writes
    to rope_freqs.weight (it divides the frequencies by them)."""
    rs = c["rope_scaling"]
    f = 1.0 / c["rope_theta"] ** (np.arange(0, hd, 2) / hd)
    fac, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    ff = []
    for x in f:
        wl = 2 * math.pi / x
        if wl < old / hi:
            ff.append(1.0)
        elif wl > old / lo:
            ff.append(fac)
        else:
            sm = (old / wl - lo) / (hi - lo)
            ff.append(1 / ((1 - sm) / fac + sm))
    return np.array(ff)


def write_gguf(src, path, extra=()):
    """The HF model src (llama, mistral, qwen2, phi3, gpt2) as a
    llama.cpp-style GGUF (F32), following convert_hf_to_gguf.py: GGUF
    names and <arch>.* metadata; LLaMA's Q/K rows permuted; GPT-2's Conv1D
    weights transposed to (out, in), position_embd, biases and the tied
    classifier written as output.weight; Phi-3's fused attn_qkv and
    ffn_up (gate then up); rope_scaling as llama.cpp carries it: Llama
    3.1's as rope_freqs.weight, yarn as rope.scaling.* metadata, Phi-3's
    longrope as rope_factors_short/long.weight and
    rope.scaling.attn_factor."""
    c = json.load(open(os.path.join(src, "config.json")))
    W = {k: v.numpy() for k, v in read_safetensors(os.path.join(src, "model.safetensors")).items()}
    mt = c["model_type"]
    arch = "llama" if mt == "mistral" else mt
    kv = [("general.architecture", arch)]
    T = {}
    if mt == "gpt2":
        p = "transformer." if "transformer.wte.weight" in W else ""
        T["token_embd.weight"] = W[p + "wte.weight"]
        T["position_embd.weight"] = W[p + "wpe.weight"]
        T["output_norm.weight"] = W[p + "ln_f.weight"]
        T["output_norm.bias"] = W[p + "ln_f.bias"]
        T["output.weight"] = W.get("lm_head.weight", W[p + "wte.weight"])
        hf = {"attn_norm": "ln_1", "attn_qkv": "attn.c_attn",
              "attn_output": "attn.c_proj", "ffn_norm": "ln_2",
              "ffn_up": "mlp.c_fc", "ffn_down": "mlp.c_proj"}
        for l in range(c["n_layer"]):
            for g, h in hf.items():
                for sfx in ("weight", "bias"):
                    w = W["%sh.%d.%s.%s" % (p, l, h, sfx)]
                    if sfx == "weight" and g not in ("attn_norm", "ffn_norm"):
                        w = w.T
                    T["blk.%d.%s.%s" % (l, g, sfx)] = w
        d = c["n_embd"]
        for k, v in [("context_length", c["n_positions"]), ("embedding_length", d),
                     ("feed_forward_length", 4 * d), ("block_count", c["n_layer"]),
                     ("attention.head_count", c["n_head"]),
                     ("attention.layer_norm_epsilon", float(c["layer_norm_epsilon"]))]:
            kv.append(("gpt2." + k, v))
        gguf_write(path, kv, T)
        return
    H, d = c["num_attention_heads"], c["hidden_size"]
    KV = c.get("num_key_value_heads", H)
    hd = c.get("head_dim", d // H)

    def permute(w, n):
        return w.reshape(n, 2, w.shape[0] // n // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
    T["token_embd.weight"] = W["model.embed_tokens.weight"]
    T["output_norm.weight"] = W["model.norm.weight"]
    if "lm_head.weight" in W:
        T["output.weight"] = W["lm_head.weight"]
    hf = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj",
          "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
          "attn_qkv": "self_attn.qkv_proj",
          "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
          "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
    if mt == "phi3":
        hf["ffn_up"] = "mlp.gate_up_proj"
    for l in range(c["num_hidden_layers"]):
        for g, h in hf.items():
            for sfx in ("weight", "bias"):
                w = W.get("model.layers.%d.%s.%s" % (l, h, sfx))
                if w is None:
                    continue
                if arch == "llama" and g in ("attn_q", "attn_k"):
                    w = permute(w, H if g == "attn_q" else KV)
                T["blk.%d.%s.%s" % (l, g, sfx)] = w
    for k, v in [("embedding_length", d), ("feed_forward_length", c["intermediate_size"]),
                 ("block_count", c["num_hidden_layers"]), ("attention.head_count", H),
                 ("attention.head_count_kv", KV), ("context_length", c["max_position_embeddings"]),
                 ("attention.layer_norm_rms_epsilon", float(c["rms_norm_eps"])),
                 ("rope.freq_base", float(c["rope_theta"]))]:
        kv.append((arch + "." + k, v))
    if "head_dim" in c:
        kv.append((arch + ".attention.key_length", hd))
    if mt == "phi3":
        kv.append(("phi3.rope.dimension_count",
                   int(c.get("partial_rotary_factor", 1.0) * d) // H))
        if "original_max_position_embeddings" in c:
            kv.append(("phi3.rope.scaling.original_context_length",
                       c["original_max_position_embeddings"]))
    rs = c.get("rope_scaling") or {}
    t = rs.get("rope_type", rs.get("type"))
    if t == "llama3":
        T["rope_freqs.weight"] = llama3_factors(c, hd)
    elif t == "yarn":
        kv += [(arch + ".rope.scaling.type", "yarn"),
               (arch + ".rope.scaling.factor", float(rs["factor"])),
               (arch + ".rope.scaling.original_context_length",
                rs["original_max_position_embeddings"])]
        for k, g in (("beta_fast", "yarn_beta_fast"), ("beta_slow", "yarn_beta_slow"),
                     ("attention_factor", "yarn_attn_factor")):
            if k in rs:
                kv.append((arch + ".rope.scaling." + g, float(rs[k])))
    elif t in ("longrope", "su"):
        T["rope_factors_long.weight"] = np.array(rs["long_factor"])
        T["rope_factors_short.weight"] = np.array(rs["short_factor"])
        orig = c["original_max_position_embeddings"]
        scale = c["max_position_embeddings"] / orig
        af = math.sqrt(1 + math.log(scale) / math.log(orig)) if scale > 1 else 1.0
        kv.append((arch + ".rope.scaling.attn_factor", af))
    elif t == "linear":
        kv += [(arch + ".rope.scaling.type", "linear"),
               (arch + ".rope.scaling.factor", float(rs["factor"]))]
    gguf_write(path, kv + list(extra), T)


FAILED = []


def report(ok, what):
    print("%s %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        FAILED.append(what)


def mp_logits(model, ids):
    r = subprocess.run([os.environ["MP_BIN"], "generate", model, "--tokens",
                        ",".join(map(str, ids)), "--greedy", "0", "--logits"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return np.array([float(v) for v in r.stdout.split()]), ""


def cmp_logits(label, model, fwd, seqs, tol):
    worst = 0.0
    for ids in seqs:
        got, why = mp_logits(model, ids)
        ref = fwd(torch.tensor(ids))[-1].numpy()
        if got is None or got.shape != ref.shape:
            report(False, "%s %s: %s" % (label, ids, why or "wrong length"))
            return
        worst = max(worst, np.abs(got - ref).max() / np.abs(ref).max())
    report(worst <= tol, "%s: logits of %d sequences, max |diff| / max |ref| "
           "= %.2e (tolerance %.0e)" % (label, len(seqs), worst, tol))


def check(fx, work):
    seqs = [[1], [1, 17, 30, 5], [3, 9, 44, 2, 11, 27, 8, 50, 1, 33, 12, 4]]
    st = os.path.join(fx, "llm", "stories260K.bin")
    fwd, E = load(st)
    cmp_logits("stories260K", st, fwd, seqs, 1e-4)
    ids = [1]
    for _ in range(32):
        ids.append(int(torch.argmax(fwd(torch.tensor(ids))[-1])))
    r = subprocess.run([os.environ["MP_BIN"], "generate", st, "--tokens",
                        "1", "--greedy", "32"], capture_output=True, text=True)
    want = " ".join(map(str, ids[1:]))
    report(r.stdout.strip() == want, "stories260K: greedy 32 from BOS: "
           "modelprint '%s', torch '%s'" % (r.stdout.strip(), want))
    # The same model with a separate classifier (negative vocab_size).
    raw = bytearray(open(st, "rb").read())
    dim, V = struct.unpack("<i", raw[:4])[0], struct.unpack("<i", raw[20:24])[0]
    raw[20:24] = struct.pack("<i", -V)
    head = np.random.default_rng(5).normal(0, 0.1, (V, dim)).astype("<f4")
    sep = os.path.join(work, "stories-separate.bin")
    open(sep, "wb").write(bytes(raw) + head.tobytes())
    fwd2, _ = load(sep)
    cmp_logits("llama2.c, separate classifier", sep, fwd2, seqs[1:], 1e-4)

    par = os.path.join(fx, "gguf", "parent")
    big = [[1, 17, 300, 5, 999, 42, 7], [1000, 2, 513, 64, 128, 77, 3, 900]]
    pf, _ = load(par)
    cmp_logits("LLaMA parent (safetensors)", par, pf, big, 1e-4)
    # The same weights as a PyTorch file (torch.save of the state dict)
    # beside the same config.json.
    ptd = os.path.join(work, "parent-pt")
    os.makedirs(ptd, exist_ok=True)
    shutil.copy(os.path.join(par, "config.json"), ptd)
    torch.save({k: v.float() for k, v in
                read_safetensors(os.path.join(par, "model.safetensors")).items()},
               os.path.join(ptd, "pytorch_model.bin"))
    cmp_logits("LLaMA parent (PyTorch pytorch_model.bin)", ptd, pf, big, 1e-4)
    gg = lambda t: os.path.join(fx, "gguf", "model-%s.gguf" % t)
    cmp_logits("parent's f32 GGUF", gg("f32"), pf, big, 1e-4)
    cmp_logits("parent's f16 GGUF vs f16-rounded weights", gg("f16"),
               load(par, f16)[0], big, 1e-4)
    cmp_logits("parent's q8_0 GGUF vs q8_0-rounded weights", gg("q8_0"),
               load(par, q8_0)[0], big, 1e-4)
    cmp_logits("parent's f16 GGUF vs the parent", gg("f16"), pf, big, 2e-3)
    cmp_logits("parent's q8_0 GGUF vs the parent", gg("q8_0"), pf, big, 5e-2)

    make(work)
    small = [[1, 5, 9], [1, 5, 9, 3, 7, 2, 40, 33, 20, 11, 12, 13, 14, 15,
                         16, 17, 18, 19, 20, 60]]
    for m in ["gpt2", "qwen2", "gemma", "phi3", "llama3", "linear", "yarn",
              "yarn_keys", "longrope", "partial"]:
        d = os.path.join(work, m)
        cmp_logits("random %s (HF layout)" % m, d, load(d)[0], small, 1e-4)

    for m, what in [("llama3", "permuted Q/K, rope_freqs"),
                    ("gpt2", "Conv1D transposed, position_embd, biases"),
                    ("phi3", "fused attn_qkv and ffn_up"),
                    ("qwen2", "q/k/v biases"),
                    ("yarn", "rope.scaling.type yarn"),
                    ("yarn_keys", "yarn_beta_fast/slow, yarn_attn_factor"),
                    ("longrope", "rope_factors_short/long, attn_factor"),
                    ("partial", "rope.dimension_count 4 of 8"),
                    ("linear", "rope.scaling.type linear")]:
        g = os.path.join(work, m + ".gguf")
        write_gguf(os.path.join(work, m), g)
        cmp_logits("random %s as GGUF (%s)" % (m, what), g,
                   load(os.path.join(work, m))[0], small, 1e-4)

    rng = np.random.default_rng(3)
    probes = [list(rng.integers(0, 512, rng.integers(1, 6))) for _ in range(96)]
    targets = [5, 9, 44, 100, 461, 13, 283, 401, 12, 77, 300, 511]
    ts = ",".join(map(str, targets))

    def io_case(what, probes, n0):
        want = io(fwd, E, probes, targets, n0)
        ps = ";".join(",".join(map(str, p)) for p in probes)
        r = subprocess.run([os.environ["MP_LLM_IO"], st, ps, ts, str(n0)],
                           capture_output=True, text=True)
        got = (np.array([float(v) for v in r.stdout.split()])
               if r.returncode == 0 else None)
        same = got is not None and got.shape == want.shape
        report(same and np.abs(got - want).max() <= 2e-5,
               "input_output on stories260K (%s, n0 %d): max |diff| %s"
               % (what, n0, "%.1e" % np.abs(got - want).max() if same
                  else r.stderr.strip()))

    io_case("96 raw-id probes, 12 targets", probes, 10)
    # Fewer probes than the width (20 < 64): modelprint decomposes P U
    # (20 x 20) instead of A = U P (64 x 64); numpy here decomposes A.
    io_case("20 probes < width 64", probes[:20], 30)
    if FAILED:
        sys.exit(1)


def main(a):
    if a[0] == "check":
        check(a[1], a[2])
        return
    if a[0] == "make":
        make(a[1])
        return
    if a[0] == "gguf":  # gguf SRC OUT [KEY=FLOAT...]: write_gguf
        write_gguf(a[1], a[2], [(k, float(v)) for k, v in
                                (x.split("=") for x in a[3:])])
        return
    fwd, E = load(a[1])
    if a[0] == "logits":
        ids = [int(x) for x in a[2].split(",")]
        print(" ".join("%.9g" % v for v in fwd(torch.tensor(ids))[-1].tolist()))
    elif a[0] == "greedy":
        ids = [int(x) for x in a[2].split(",")]
        out = []
        for _ in range(int(a[3])):
            nxt = int(torch.argmax(fwd(torch.tensor(ids))[-1]))
            ids.append(nxt)
            out.append(nxt)
        print(" ".join(map(str, out)))
    elif a[0] == "io":
        probes = [[int(x) for x in p.split(",")] for p in a[2].split(";")]
        targets = [int(x) for x in a[3].split(",")]
        print(" ".join("%.12g" % v for v in io(fwd, E, probes, targets, int(a[4]))))


if __name__ == "__main__":
    main(sys.argv[1:])
