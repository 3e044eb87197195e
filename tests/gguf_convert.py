#!/usr/bin/env python3
"""gguf_convert.py — tiny Hugging Face models and their GGUF conversions
written the way llama.cpp's convert_hf_to_gguf.py writes them, for
tests/gguf-convert.sh.

    gguf_convert.py make ARCH DIR [--dtype F32|BF16] [--seed N]
        A random model of architecture ARCH (gemma, gemma2, gemma3, qwen3,
        gpt2) in Hugging Face layout: DIR/model.safetensors and
        DIR/config.json. Gemma's norms are zero-centred (the model scales
        by 1 + w), Gemma 2 and 3 norm before and after each sublayer,
        Gemma 3 and Qwen3 norm each head's queries and keys; GPT-2's projections
        are Conv1D weights, input-first, and each block holds the
        attention mask buffer "attn.bias" as the published checkpoints
        do.
    gguf_convert.py convert ARCH SRC OUT.gguf [--type F32|F16|Q8_0]
                    [--norm-noise S --seed N]
        SRC (a safetensors file this script wrote) converted as llama.cpp's
        converter does for ARCH: tensors renamed to GGUF names; BF16
        widened to float32 first; Gemma: 1 added to every norm weight
        (in float32, or in float16 for an F16 source; Gemma 2 and 3
        alike); GPT-2: the Conv1D
        weights transposed (GPT2Model.modify_tensors), the attention mask
        buffers dropped; matrices stored as
        TYPE (Q8_0 by ggml's reference rounding), one-dimensional tensors
        F32. --norm-noise adds Gaussian noise of S times each norm's own
        standard deviation first (a changed model, not a conversion).
        Prints one JSON line: the error ratio of the quantized values
        against the source and the share within half a step, as
        gguf_quant.py computes them.
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_quant as gq  # noqa: E402

H, F, V, L, HEADS, KV = 64, 128, 320, 2, 4, 2

DECODERS = {"gemma": "GemmaForCausalLM", "gemma2": "Gemma2ForCausalLM",
            "gemma3": "Gemma3ForCausalLM", "qwen3": "Qwen3ForCausalLM"}
LAYER = {  # Hugging Face name (after "model.layers.N.") -> GGUF name
    "input_layernorm": "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "self_attn.q_norm": "attn_q_norm",
    "self_attn.k_norm": "attn_k_norm",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
# Gemma 2 and 3 norm before and after each sublayer (gguf-py's
# tensor_mapping: ATTN_POST_NORM, FFN_NORM, FFN_POST_NORM)
LAYER_GEMMA2 = dict(LAYER, post_attention_layernorm="post_attention_norm",
                    pre_feedforward_layernorm="ffn_norm",
                    post_feedforward_layernorm="post_ffw_norm")


GPT2 = {  # Hugging Face name (after "h.N.") -> GGUF name
    "ln_1": "attn_norm",
    "attn.c_attn": "attn_qkv",
    "attn.c_proj": "attn_output",
    "ln_2": "ffn_norm",
    "mlp.c_fc": "ffn_up",
    "mlp.c_proj": "ffn_down",
}
GPT2_GLOBAL = {"wte": "token_embd", "wpe": "position_embd",
               "ln_f": "output_norm"}


def make_gpt2(w):
    t = {"wte.weight": w(V, H), "wpe.weight": w(32, H)}
    for i in range(L):
        p = "h.%d." % i
        t[p + "ln_1.weight"] = 1 + w(H, sd=0.1)
        t[p + "ln_1.bias"] = w(H)
        t[p + "attn.bias"] = np.tril(np.ones((8, 8), np.float32))[None, None]
        t[p + "attn.c_attn.weight"] = w(H, 3 * H)
        t[p + "attn.c_attn.bias"] = w(3 * H)
        t[p + "attn.c_proj.weight"] = w(H, H)
        t[p + "attn.c_proj.bias"] = w(H)
        t[p + "ln_2.weight"] = 1 + w(H, sd=0.1)
        t[p + "ln_2.bias"] = w(H)
        t[p + "mlp.c_fc.weight"] = w(H, F)
        t[p + "mlp.c_fc.bias"] = w(F)
        t[p + "mlp.c_proj.weight"] = w(F, H)
        t[p + "mlp.c_proj.bias"] = w(H)
    t["ln_f.weight"] = 1 + w(H, sd=0.1)
    t["ln_f.bias"] = w(H)
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
           "n_embd": H, "n_layer": L, "n_head": HEADS, "vocab_size": V,
           "n_ctx": 32}
    return t, cfg


def make(arch, out, dtype, seed):
    rng = np.random.default_rng(seed)

    def w(*shape, sd=0.02):
        return rng.normal(0, sd, shape).astype(np.float32)
    if arch == "gpt2":
        t, cfg = make_gpt2(w)
        os.makedirs(out, exist_ok=True)
        gq.write_safetensors(os.path.join(out, "model.safetensors"), t,
                             dtype)
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(cfg, f)
        return
    assert arch in DECODERS, arch
    hd = H // HEADS
    gemma = arch.startswith("gemma")
    nsd = 0.3 if gemma else 0.1  # Gemma's norms zero-centred, others ~1

    def norm():
        return w(H, sd=nsd) + (0 if gemma else 1)
    t = {"model.embed_tokens.weight": w(V, H)}
    for i in range(L):
        p = "model.layers.%d." % i
        t[p + "input_layernorm.weight"] = norm()
        t[p + "self_attn.q_proj.weight"] = w(HEADS * hd, H)
        t[p + "self_attn.k_proj.weight"] = w(KV * hd, H)
        t[p + "self_attn.v_proj.weight"] = w(KV * hd, H)
        t[p + "self_attn.o_proj.weight"] = w(H, HEADS * hd)
        if arch in ("gemma3", "qwen3"):
            t[p + "self_attn.q_norm.weight"] = w(hd, sd=nsd)
            t[p + "self_attn.k_norm.weight"] = w(hd, sd=nsd)
        t[p + "post_attention_layernorm.weight"] = norm()
        if arch in ("gemma2", "gemma3"):
            t[p + "pre_feedforward_layernorm.weight"] = norm()
            t[p + "post_feedforward_layernorm.weight"] = norm()
        t[p + "mlp.gate_proj.weight"] = w(F, H)
        t[p + "mlp.up_proj.weight"] = w(F, H)
        t[p + "mlp.down_proj.weight"] = w(H, F)
    t["model.norm.weight"] = norm()
    if not gemma:
        t["lm_head.weight"] = w(V, H)
    os.makedirs(out, exist_ok=True)
    gq.write_safetensors(os.path.join(out, "model.safetensors"), t, dtype)
    cfg = {"architectures": [DECODERS[arch]], "model_type": arch,
           "hidden_size": H, "intermediate_size": F,
           "num_hidden_layers": L, "num_attention_heads": HEADS,
           "num_key_value_heads": KV, "head_dim": hd, "vocab_size": V}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f)


def gguf_name(arch, hf):
    base, suf = hf.rsplit(".", 1)
    if arch == "gpt2":
        if base in GPT2_GLOBAL:
            return "%s.%s" % (GPT2_GLOBAL[base], suf)
        _, i, rest = base.split(".", 2)
        return "blk.%s.%s.%s" % (i, GPT2[rest], suf)
    top = {"model.embed_tokens": "token_embd", "model.norm": "output_norm",
           "lm_head": "output"}
    if base in top:
        return "%s.%s" % (top[base], suf)
    _, _, i, rest = base.split(".", 3)
    m = LAYER_GEMMA2 if arch in ("gemma2", "gemma3") else LAYER
    return "blk.%s.%s.%s" % (i, m[rest], suf)


def convert(arch, src, out, typ, noise, seed):
    assert arch in DECODERS or arch == "gpt2", arch
    rng = np.random.default_rng(seed)
    rows, pairs = [], []
    for k, (v, dt) in gq.read_safetensors_typed(src).items():
        if arch == "gpt2" and k.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # the converter drops the mask buffers
        if arch == "gpt2" and k.endswith((".c_attn.weight", ".c_proj.weight",
                                          ".c_fc.weight")):
            v = v.T.copy()  # Conv1D, input-first: stored output-first
        if arch.startswith("gemma") and k.endswith("norm.weight"):
            if noise:
                v = v + rng.normal(0, noise * float(np.std(v)),
                                   v.shape).astype(v.dtype)
            # convert_hf_to_gguf.py widens BF16 to float32, keeps F16
            # and F32, then Gemma's modify_tensors adds 1 (Gemma 2 and
            # 3 too: every name ending in norm.weight)
            v = (v + v.dtype.type(1)).astype(np.float32)
        if v.ndim < 2 or typ == "F32":
            rows.append((gguf_name(arch, k), v.shape, 0,
                         v.astype("<f4").tobytes()))
        elif typ == "F16":
            rows.append((gguf_name(arch, k), v.shape, 1,
                         v.astype("<f2").tobytes()))
        else:
            b, vals, steps = gq.q8_0(v.astype(np.float32).ravel())
            rows.append((gguf_name(arch, k), v.shape, 8, b))
            pairs.append((vals, v.ravel(), steps))
    kv = [(arch + ".attention.head_count", 4, struct.pack("<I", HEADS))]
    if arch != "gpt2":
        kv.append((arch + ".attention.head_count_kv", 4, struct.pack("<I", KV)))
    ftype = {"F32": 0, "F16": 1, "Q8_0": 7}[typ]
    gq.write_gguf(out, rows, ftype, None, arch=arch, extra=kv)
    print(json.dumps(gq.ratio(pairs) if pairs else {}))


def main():
    a = sys.argv[1:]
    opts = dict(zip(a[3::2], a[4::2])) if a[0] == "make" else \
        dict(zip(a[4::2], a[5::2]))
    seed = int(opts.get("--seed", "1"))
    if a[0] == "make":
        make(a[1], a[2], opts.get("--dtype", "F32"), seed)
    else:
        convert(a[1], a[2], a[3], opts.get("--type", "F32"),
                float(opts.get("--norm-noise", "0")), seed)


if __name__ == "__main__":
    main()
