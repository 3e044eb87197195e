#!/usr/bin/env python3
"""gguf_iquant.py — GGUF files quantized to ggml's lattice i-quants here,
for tests/gguf-quant.sh.

    gguf_iquant.py small PARENT OUT.safetensors
        The real parent's layer-0 q/k/v projections and its norms: a parent
        small enough to quantize seven ways in a few seconds each.
    gguf_iquant.py quant SRC TYPE OUT.gguf [--finetune FT.gguf --noise K
                   --seed N --save-src FT.safetensors]
        Read SRC (a safetensors file of F32 tensors), quantize every
        matrix to TYPE (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S,
        IQ1_M) by brute force: each group of the grid's values (8, or 4
        for the IQ3 grids) goes to the nearest point the block can
        represent (every grid entry times every allowed sign pattern, or
        for IQ1 every entry plus the sub-block's delta, both delta signs
        tried), under the scales actually stored; the scales come from a
        simple search (per scale unit the best of a few candidate scales,
        the block's half d from the largest, each unit's code the nearest
        to its best). 1-D tensors stay F32. With --finetune, each matrix
        of SRC is also moved by Gaussian noise of K times the RMS error
        quantizing it left (a stand-in fine-tune, saved as safetensors),
        and that quantized the same way to FT.gguf.
        Prints one JSON line: the error ratio over all quantized values
        (and finetune_vs_parent: the fine-tune's quantization against SRC),
        sqrt(sum (u - src)^2 / sum step^2 / 12), and the share within half
        a step, with the values u and the steps computed here, in numpy,
        from the codes and scales written (the steps as
        modelprint-methods(7) defines them for the lattice types).

The grids are read from src/core/ggml_grids.c (ggml's tables, in the
compact form described there), next to this script.
"""
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_quant as gq  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GRIDS = os.path.join(HERE, "..", "src", "core", "ggml_grids.c")

# type: (ggml id, file type, bytes per block)
TYPES = {"IQ2_XXS": (16, 19, 66), "IQ2_XS": (17, 20, 74),
         "IQ2_S": (22, 28, 82), "IQ3_XXS": (18, 23, 98),
         "IQ3_S": (21, 26, 110), "IQ1_S": (19, 24, 50),
         "IQ1_M": (29, 31, 56)}
IQ1_DELTA = np.float32(0.125)


def tables():
    src = open(GRIDS).read()
    out = {}
    for m in re.finditer(r"const (?:u?int\d+_t) mp_ggml_(\w+)\[\d+\] = "
                         r"\{([^}]*)\}", src):
        out[m.group(1)] = [int(v, 0) for v in
                           re.findall(r"-?0x[0-9a-fA-F]+|-?\d+",
                                      m.group(2))]
    return out


T = tables()
KSIGNS = np.array(T["ksigns_iq2xs"], np.uint8)


def expand(name, levels, bits, dim):
    """Grid `name` as (entries, dim) float32 level values."""
    g = np.array(T[name], np.int64)
    f = (g[:, None] >> (bits * np.arange(dim))) & ((1 << bits) - 1)
    return np.array(levels, np.float32)[f], f


G = {"IQ2_XXS": expand("iq2xxs_grid", T["iq2_levels"], 2, 8),
     "IQ2_XS": expand("iq2xs_grid", T["iq2_levels"], 2, 8),
     "IQ2_S": expand("iq2s_grid", T["iq2_levels"], 2, 8),
     "IQ3_XXS": expand("iq3xxs_grid", T["iq3xxs_levels"], 4, 4),
     "IQ3_S": expand("iq3s_grid", T["iq3s_levels"], 4, 4),
     "IQ1": expand("iq1s_grid", T["iq1_levels"], 2, 8)}


def gaps(levels, signed):
    """Spacing at each level (ggml_dequant.h): the mean of the gaps to the
    two neighbouring values a coordinate can take (the levels, and with a
    sign also their negatives), the one gap at either end."""
    lv = np.array(levels, np.float64)
    allv = np.unique(np.concatenate([lv, -lv]) if signed else lv)
    out = []
    for v in lv:
        below = allv[allv < v]
        above = allv[allv > v]
        gs = ([v - below.max()] if below.size else []) + \
            ([above.min() - v] if above.size else [])
        out.append(sum(gs) / len(gs))
    return np.array(out)


# The density factor of each lattice type: (P / C)^(1/n), P the number of
# points of the full product grid over n values (every coordinate any
# level, any sign), C the number the block can actually represent (grid
# entries x allowed sign patterns, x delta choices for IQ1), n = 8 values.
# Worked out here from the table sizes, independently of the C constants.
def factor(typ):
    if typ == "IQ2_XXS":
        p, c = 6.0 ** 8, 256 * 128
    elif typ == "IQ2_XS":
        p, c = 6.0 ** 8, 512 * 128
    elif typ == "IQ2_S":
        p, c = 6.0 ** 8, 1024 * 256
    elif typ == "IQ3_XXS":
        p, c = 16.0 ** 8, 256 * 256 * 128
    elif typ == "IQ3_S":
        p, c = 16.0 ** 8, 512 * 512 * 256
    elif typ == "IQ1_S":  # a delta sign per 32 values: 2^(1/4) per 8
        p, c = 3.0 ** 8, 2048 * 2 ** 0.25
    else:  # IQ1_M: a delta sign per 8 values
        p, c = 3.0 ** 8, 2048 * 2
    return (p / c) ** 0.125


def nearest(a, grid, parity, chunk=8192):
    """Per row of magnitudes a (m, dim): the index of the nearest grid
    entry and its squared distance; with parity, rows flagged odd must flip
    one sign, costing 4 * a_j * level_j at the cheapest j (added per
    entry)."""
    grid = grid.astype(np.float32)
    gn = np.sum(grid ** 2, axis=1)
    idx = np.empty(len(a), np.int64)
    dist = np.empty(len(a))
    for s in range(0, len(a), chunk):
        x = a[s:s + chunk].astype(np.float32)
        d = gn[None, :] - 2 * (x @ grid.T)
        if parity is not None:
            odd = parity[s:s + chunk]
            if odd.any():
                pen = 4 * np.min(x[odd][:, None, :] * grid[None, :, :], 2)
                d[odd] += pen
        i = np.argmin(d, 1)
        idx[s:s + chunk] = i
        dist[s:s + chunk] = d[np.arange(len(x)), i] + np.sum(x * x, 1)
    return idx, dist


def signs_of(x):
    """Bit j set where x[:, j] < 0, and the parity of the count."""
    neg = (x < 0).astype(np.int64)
    bits = np.sum(neg << np.arange(x.shape[1]), 1)
    return bits, (np.sum(neg, 1) & 1).astype(bool)


def fix_parity(a, bits, odd, lv):
    """Even-parity sign patterns: flip the sign at the cheapest j of each
    odd row (a: magnitudes, lv: the chosen levels)."""
    j = np.argmin(a * lv, 1)
    bits = bits ^ (odd.astype(np.int64) << j)
    return bits


def quant_sign8(y, typ):
    """y (m, 8) scaled values -> (grid index per 8 or pairs of 4, sign
    byte, squared error) for the IQ2/IQ3 types."""
    grid, _ = G[typ]
    a = np.abs(y)
    bits, odd = signs_of(y)
    even_only = typ in ("IQ2_XXS", "IQ2_XS", "IQ3_XXS")
    if grid.shape[1] == 8:
        idx, dist = nearest(a, grid, odd if even_only else None)
        lv = grid[idx]
        if even_only:
            bits = fix_parity(a, bits, odd, lv)
        return idx[:, None], bits, dist
    # IQ3: two 4-value entries per 8, one sign byte over both
    i0, d0 = nearest(a[:, :4], grid, None)
    i1, d1 = nearest(a[:, 4:], grid, None)
    if even_only and odd.any():
        p0 = odd.copy()
        p1 = odd.copy()
        j0, e0 = nearest(a[:, :4], grid, p0)
        j1, e1 = nearest(a[:, 4:], grid, p1)
        first = (e0 + d1) <= (d0 + e1)
        i0 = np.where(odd & first, j0, i0)
        i1 = np.where(odd & ~first, j1, i1)
        lv = np.concatenate([grid[i0], grid[i1]], 1)
        # the flip falls in the half whose penalty was taken
        aa = a * lv
        aa[:, 4:] = np.where((odd & first)[:, None], np.inf, aa[:, 4:])
        aa[:, :4] = np.where((odd & ~first)[:, None], np.inf, aa[:, :4])
        j = np.argmin(aa, 1)
        bits = bits ^ (odd.astype(np.int64) << j)
    lv = np.concatenate([grid[i0], grid[i1]], 1)
    sg = 1 - 2 * ((bits[:, None] >> np.arange(8)) & 1)
    dist = np.sum((y - lv * sg) ** 2, 1)
    return np.stack([i0, i1], 1), bits, dist


def quant_iq1(y, delta):
    """y (m, 8) scaled values, delta (m,) -> (index, squared error)."""
    grid, _ = G["IQ1"]
    return nearest(y - delta[:, None], grid, None)


# ---- per type: scale units, multipliers and block packing ----

# values per scale unit, scale multiplier of code k (k = 0..kmax)
UNIT = {"IQ2_XXS": 32, "IQ2_XS": 16, "IQ2_S": 16, "IQ3_XXS": 32,
        "IQ3_S": 32, "IQ1_S": 32, "IQ1_M": 16}
KMAX = {"IQ2_XXS": 15, "IQ2_XS": 15, "IQ2_S": 15, "IQ3_XXS": 15,
        "IQ3_S": 15, "IQ1_S": 7, "IQ1_M": 7}


def scale_of(typ, d, k):
    """The unit's scale as ggml computes it in float32."""
    d = np.float32(d)
    k = np.asarray(k)
    if typ in ("IQ2_XXS", "IQ2_XS", "IQ2_S"):
        return (d * (np.float32(0.5) + k.astype(np.float32))) * \
            np.float32(0.25)
    if typ == "IQ3_XXS":
        return (d * (np.float32(0.5) + k.astype(np.float32))) * \
            np.float32(0.5)
    return d * (2 * k + 1).astype(np.float32)


def mult(typ, k):
    return np.asarray(scale_of(typ, 1.0, k), np.float64)


def lmax(typ):
    if typ.startswith("IQ1"):
        return 1.0
    return float(np.max(G[typ][0]))


def unit_quant(typ, y):
    """Quantize the scaled values y (units, UNIT) of one scale each:
    returns (codes, signs or deltas, squared error per unit)."""
    u = y.shape[1]
    g = y.reshape(-1, 8)
    if typ.startswith("IQ1"):
        if typ == "IQ1_S":  # one delta sign per unit of 32
            best = None
            for ds in (IQ1_DELTA, -IQ1_DELTA):
                dl = np.full(len(g), ds, np.float32)
                idx, dist = quant_iq1(g, dl)
                e = dist.reshape(-1, u // 8).sum(1)
                if best is None:
                    best = [idx, np.full(len(g), ds), e]
                else:
                    w = e < best[2]
                    wg = np.repeat(w, u // 8)
                    best[0] = np.where(wg, idx, best[0])
                    best[1] = np.where(wg, ds, best[1])
                    best[2] = np.where(w, e, best[2])
            return best[0], best[1], best[2]
        # IQ1_M: one delta sign per 8 values
        i0, e0 = quant_iq1(g, np.full(len(g), IQ1_DELTA, np.float32))
        i1, e1 = quant_iq1(g, np.full(len(g), -IQ1_DELTA, np.float32))
        w = e1 < e0
        return (np.where(w, i1, i0), np.where(w, -IQ1_DELTA, IQ1_DELTA),
                np.minimum(e0, e1).reshape(-1, u // 8).sum(1))
    idx, bits, dist = quant_sign8(g, typ)
    return idx, bits, dist.reshape(-1, u // 8).sum(1)


def search(typ, x):
    """x (units, UNIT): the best scale of each unit among candidates."""
    amax = np.max(np.abs(x), 1).astype(np.float64)
    amax[amax == 0] = 1e-30
    best_s = amax / lmax(typ)
    best_e = np.full(len(x), np.inf)
    for f in (0.5, 0.65, 0.8, 1.0):
        s = amax / lmax(typ) * f
        _, _, e = unit_quant(typ, (x / s[:, None]).astype(np.float32))
        e = e * s * s
        w = e < best_e
        best_e[w] = e[w]
        best_s[w] = s[w]
    return best_s


def quantize(typ, x):
    """Flat float32 x (a multiple of 256) -> (bytes, values, steps)."""
    nb = len(x) // 256
    u = UNIT[typ]
    xu = x.reshape(-1, u).astype(np.float32)
    best = search(typ, xu).reshape(nb, 256 // u)
    top = mult(typ, KMAX[typ])
    d = np.float16(best.max(1) / top).astype(np.float32)
    d[d == 0] = np.float32(np.float16(1e-7))
    k = np.clip(np.rint((best / d[:, None] - mult(typ, 0)) /
                        (mult(typ, 1) - mult(typ, 0))), 0, KMAX[typ]).astype(
        np.int64)
    sc = np.stack([scale_of(typ, d[i], k[i]) for i in range(nb)])
    y = (xu / sc.reshape(-1, 1)).astype(np.float32)
    codes, extra, _ = unit_quant(typ, y)
    return pack(typ, nb, d, k, codes, extra, sc)


def levels_of(typ, codes):
    grid, fields = G["IQ1" if typ.startswith("IQ1") else typ]
    if codes.ndim == 2 and grid.shape[1] == 4:
        return (np.concatenate([grid[codes[:, 0]], grid[codes[:, 1]]], 1),
                np.concatenate([fields[codes[:, 0]], fields[codes[:, 1]]], 1))
    c = codes.ravel()
    return grid[c], fields[c]


def values_steps(typ, nb, codes, extra, sc):
    """The dequantized values, in ggml's float order, and the steps."""
    lv, fields = levels_of(typ, codes)
    per = np.repeat(sc.reshape(-1), UNIT[typ] // 8).astype(np.float32)
    if typ.startswith("IQ1"):
        gp = gaps(T["iq1_levels"], False)
        v = per[:, None] * (lv + extra.astype(np.float32)[:, None])
    else:
        signed = (extra[:, None] >> np.arange(8)) & 1
        v = (per[:, None] * lv) * np.where(signed, np.float32(-1),
                                           np.float32(1))
        name = {"IQ3_XXS": "iq3xxs_levels", "IQ3_S": "iq3s_levels"}.get(
            typ, "iq2_levels")
        gp = gaps(T[name], True)
    st = np.abs(per.astype(np.float64))[:, None] * gp[fields] * factor(typ)
    return v.astype(np.float32).ravel(), st.ravel()


def pack(typ, nb, d, k, codes, extra, sc):
    out = bytearray()
    c = codes.reshape(nb, 32, -1)
    e = np.asarray(extra).reshape(nb, 32)
    kk = k.reshape(nb, -1)
    for i in range(nb):
        dh = np.float16(d[i]).tobytes()
        if typ == "IQ2_XXS":
            out += dh
            for ib in range(8):
                q = bytes(int(c[i, 4 * ib + l, 0]) for l in range(4))
                aux = int(kk[i, ib]) << 28
                for l in range(4):
                    aux |= (int(e[i, 4 * ib + l]) & 127) << (7 * l)
                out += q + aux.to_bytes(4, "little")
        elif typ == "IQ2_XS":
            out += dh
            for g in range(32):
                v = int(c[i, g, 0]) | (int(e[i, g]) & 127) << 9
                out += v.to_bytes(2, "little")
            out += bytes(int(kk[i, 2 * ib]) | int(kk[i, 2 * ib + 1]) << 4
                         for ib in range(8))
        elif typ == "IQ2_S":
            out += dh + bytes(int(c[i, g, 0]) & 255 for g in range(32))
            out += bytes(int(e[i, g]) for g in range(32))
            out += bytes(sum((int(c[i, 4 * ib + l, 0]) >> 8) << 2 * l
                             for l in range(4)) for ib in range(8))
            out += bytes(int(kk[i, 2 * ib]) | int(kk[i, 2 * ib + 1]) << 4
                         for ib in range(8))
        elif typ == "IQ3_XXS":
            out += dh + bytes(int(c[i, g, h]) for g in range(32)
                              for h in range(2))
            for ib in range(8):
                aux = int(kk[i, ib]) << 28
                for l in range(4):
                    aux |= (int(e[i, 4 * ib + l]) & 127) << (7 * l)
                out += aux.to_bytes(4, "little")
        elif typ == "IQ3_S":
            out += dh + bytes(int(c[i, g, h]) & 255 for g in range(32)
                              for h in range(2))
            out += bytes(sum((int(c[i, 4 * ib + l, h]) >> 8) << (2 * l + h)
                             for l in range(4) for h in range(2))
                         for ib in range(8))
            out += bytes(int(e[i, g]) for g in range(32))
            out += bytes(int(kk[i, 2 * j]) | int(kk[i, 2 * j + 1]) << 4
                         for j in range(4))
        elif typ == "IQ1_S":
            out += dh + bytes(int(c[i, g, 0]) & 255 for g in range(32))
            for ib in range(8):
                qh = int(kk[i, ib]) << 12
                qh |= int(e[i, 4 * ib] < 0) << 15
                for l in range(4):
                    qh |= (int(c[i, 4 * ib + l, 0]) >> 8) << 3 * l
                out += qh.to_bytes(2, "little")
        else:  # IQ1_M
            out += bytes(int(c[i, g, 0]) & 255 for g in range(32))
            nib = [(int(c[i, g, 0]) >> 8) | int(e[i, g] < 0) << 3
                   for g in range(32)]
            out += bytes(nib[2 * j] | nib[2 * j + 1] << 4
                         for j in range(16))
            dbits = int(np.frombuffer(dh, "<u2")[0])
            for j in range(4):
                s = 0
                for h in range(4):  # sub-block 2j + h//2, half h%2
                    s |= int(kk[i, 2 * (2 * j) + h]) << 3 * h
                s |= ((dbits >> 4 * j) & 15) << 12
                out += s.to_bytes(2, "little")
    v, st = values_steps(typ, nb, codes, extra, sc)
    return bytes(out), v, st


def quant_all(tensors, typ, out):
    """Write OUT.gguf of tensors quantized to typ; (ratio json, per matrix
    the RMS error, per matrix (values, steps))."""
    rows, pairs, err, got = [], [], {}, {}
    tid, ftype, _ = TYPES[typ]
    for k, v in tensors.items():
        if v.ndim < 2:
            rows.append((k, v.shape, 0, v.astype("<f4").tobytes()))
            continue
        b, vals, steps = quantize(typ, v.astype(np.float32).ravel())
        rows.append((k, v.shape, tid, b))
        pairs.append((vals, v.ravel(), steps))
        err[k] = float(np.sqrt(np.mean((vals - v.ravel()) ** 2)))
        got[k] = (vals, steps)
    gq.write_gguf(out, rows, ftype, None)
    return gq.ratio(pairs), err, got


def main():
    a = sys.argv[1:]
    if a[0] == "small":
        # the real parent's first attention matrices and the norms
        t = gq.read_safetensors(a[1])
        gq.write_safetensors(a[2], {
            k: v for k, v in t.items()
            if k in ("model.layers.0.self_attn.q_proj.weight",
                     "model.layers.0.self_attn.k_proj.weight",
                     "model.layers.0.self_attn.v_proj.weight",
                     "model.norm.weight") or
            (k.startswith("model.layers.0.") and k.endswith("norm.weight"))})
        return
    src, typ, out = a[1], a[2], a[3]
    opts = dict(zip(a[4::2], a[5::2]))
    tensors = gq.read_safetensors(src)
    res, err, _ = quant_all(tensors, typ, out)
    if "--finetune" in opts:
        rng = np.random.default_rng(int(opts.get("--seed", "1")))
        k = float(opts["--noise"])
        moved = {n: (v + rng.normal(0, k * err[n], v.shape).astype(
            np.float32) if v.ndim >= 2 else v) for n, v in tensors.items()}
        gq.write_safetensors(opts["--save-src"], moved)
        ft, _, got = quant_all(moved, typ, opts["--finetune"])
        res["finetune_ratio"] = ft["ratio"]
        # the fine-tune's quantization against the parent
        res["finetune_vs_parent"] = gq.ratio(
            [(u, tensors[n].ravel(), st) for n, (u, st) in got.items()])[
                "ratio"]
    print(json.dumps(res))


if __name__ == "__main__":
    main()
