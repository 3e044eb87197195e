#!/usr/bin/python3
"""lineage_cases.py — lineage test cases built from one real TF.js model.

    lineage_cases.py MODEL.json OUTDIR [--seed N] [--calibration]

Reads a TF.js model (model.json or a bare weights manifest with its shards;
float32, int32 and bool weights, float16/uint8/uint16 quantization undone
as fmt_tfjs.c does: value * scale + min) and writes into OUTDIR:

  parent.safetensors, parent.tfjs/model.json   the model's weights as F32
  other1.*, other2.*     the same architecture, genuinely different weights
                         (every tensor's values shuffled with a fixed seed)
  CASE.safetensors and CASE.tfjs/model.json    one case per relation
  cases.json             {"model", "references": {id: {"safetensors",
                         "tfjs"}}, "cases": {CASE: {"file": {"safetensors",
                         "tfjs"|null}, "relation": KIND, "parents": [id],
                         "coefficients": [num]|null, "related": bool,
                         "note": str, and for "permuted" "tensors": [the
                         names permuted], "permutation": [int]}}}

KIND is identify's (modelprint-identify(1)): copy, dtype, quant, prune,
finetune, merge, renamed, permuted, unrelated. Without --calibration the
cases are one per relation; with it, ~40 related cases (noise at several
levels, pruning 30-70 %, int8, merges) and ~20 unrelated ones (shuffled and
random weights) for tests/identify-calibration.sh. Every value is computed
here with numpy, independently of modelprint. Needs python3 and numpy only.
"""
import json
import os
import sys

import numpy as np

# --- reading TF.js ---------------------------------------------------------

TFJS_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
QUANT_DTYPES = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


def read_tfjs(path):
    """[(name, array)] in manifest order; float weights come back float32."""
    if os.path.isdir(path):
        path = os.path.join(path, "model.json")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    manifest = doc if isinstance(doc, list) else doc["weightsManifest"]
    base = os.path.dirname(path)
    out = []
    for group in manifest:
        buf = b"".join(open(os.path.join(base, p), "rb").read()
                       for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            n = int(np.prod(shape, dtype=np.int64))
            q = w.get("quantization")
            stored = QUANT_DTYPES[q["dtype"]] if q else TFJS_DTYPES[w["dtype"]]
            a = np.frombuffer(buf, dtype=stored, count=n, offset=off)
            off += n * np.dtype(stored).itemsize
            if q and q["dtype"] != "float16":
                a = a.astype(np.float64) * q["scale"] + q["min"]
            if w["dtype"] == "float32":
                a = a.astype(np.float32)
            out.append((w["name"], a.reshape(shape).copy()))
        if off != len(buf):
            raise SystemExit(f"{path}: group uses {off} bytes of {len(buf)}")
    return out


# --- writing ---------------------------------------------------------------

ST_DTYPES = {"F32": "<f4", "F16": "<f2", "I32": "<i4", "BOOL": "|b1"}


def bf16_bits(a):
    """float32 -> bfloat16 bit patterns, round to nearest even (NaN kept)."""
    u = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(a.ravel()).reshape(a.shape)
    r[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return r


def bf16_value(a):
    """The float32 values of float32 a rounded to bfloat16."""
    return (bf16_bits(a).astype(np.uint32) << 16).view("<f4").reshape(a.shape)


def selftest():
    """bf16 rounding on values worked by hand: 1 + 2^-8 is a tie that goes
    to the even 1.0; 1 + 3 * 2^-8 a tie that goes up to 1 + 2^-6; 1 + 2^-8
    + 2^-20 is above the tie: 1 + 2^-7; -2.0 and 0.0 are exact."""
    x = np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, -2.0, 0.0],
                 np.float32)
    want = [1.0, 1 + 2**-6, 1 + 2**-7, -2.0, 0.0]
    assert bf16_value(x).tolist() == want, bf16_value(x).tolist()


def st_dtype(a, floats):
    if a.dtype == np.float32:
        return floats
    return {np.dtype(np.int32): "I32", np.dtype(np.bool_): "BOOL"}[a.dtype]


def write_safetensors(path, tensors, floats="F32", metadata=None):
    """tensors [(name, array)]; floats: F32, F16 or BF16 for float32 ones."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, a in tensors:
        dt = st_dtype(a, floats)
        if dt == "BF16":
            b = bf16_bits(a).astype("<u2").tobytes()
        else:
            b = np.ascontiguousarray(a, dtype=ST_DTYPES[dt]).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_tfjs(dirpath, tensors, f16=False, meta=None):
    """A graph-model model.json and its weights cut into two shards at an
    arbitrary byte (TF.js cuts shards anywhere); with f16, float weights
    are stored with quantization float16."""
    os.makedirs(dirpath, exist_ok=True)
    weights, data = [], []
    for name, a in tensors:
        if a.dtype == np.float32:
            w = {"name": name, "shape": list(a.shape), "dtype": "float32"}
            if f16:
                w["quantization"] = {"dtype": "float16",
                                     "original_dtype": "float32"}
                data.append(a.astype("<f2").tobytes())
            else:
                data.append(a.astype("<f4").tobytes())
        elif a.dtype == np.int32:
            w = {"name": name, "shape": list(a.shape), "dtype": "int32"}
            data.append(a.astype("<i4").tobytes())
        else:
            w = {"name": name, "shape": list(a.shape), "dtype": "bool"}
            data.append(a.astype(np.uint8).tobytes())
        weights.append(w)
    blob = b"".join(data)
    cut = len(blob) // 3
    paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    for p, part in zip(paths, (blob[:cut], blob[cut:])):
        with open(os.path.join(dirpath, p), "wb") as f:
            f.write(part)
    doc = {"format": "graph-model", "generatedBy": "lineage_cases.py",
           "convertedBy": "lineage_cases.py",
           "weightsManifest": [{"paths": paths, "weights": weights}]}
    doc.update(meta or {})
    with open(os.path.join(dirpath, "model.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f)


# --- the relations ---------------------------------------------------------


def floats(tensors):
    return [(n, a) for n, a in tensors if a.dtype == np.float32]


def apply(tensors, fn):
    """fn(name, float32 array) -> array, on the float tensors only."""
    return [(n, fn(n, a).astype(np.float32) if a.dtype == np.float32 else a)
            for n, a in tensors]


def rng_for(seed, *words):
    """A generator seeded by seed and words (stable across runs)."""
    h = 0
    for ch in "/".join(words):
        h = (h * 131 + ord(ch)) % (1 << 31)
    return np.random.default_rng([seed, h])


def shuffled(tensors, seed, tag):
    return apply(tensors, lambda n, a: rng_for(seed, tag, n).permutation(
        a.ravel()).reshape(a.shape))


def noisy(tensors, seed, tag, k):
    """Gaussian noise of sigma = k * the tensor's std."""
    def f(n, a):
        s = float(a.astype(np.float64).std())
        return a + rng_for(seed, tag, n).normal(0, k * s, a.shape)
    return apply(tensors, f)


def random_like(tensors, seed, tag):
    """Values drawn with each tensor's mean and std: unrelated weights."""
    def f(n, a):
        x = a.astype(np.float64)
        return rng_for(seed, tag, n).normal(x.mean(), x.std(), a.shape)
    return apply(tensors, f)


def int8_roundtrip(tensors):
    """Symmetric per-tensor int8: q = round(x / s), s = max|x| / 127."""
    def f(n, a):
        m = float(np.abs(a).max()) if a.size else 0.0
        if m == 0 or not np.isfinite(m):
            return a
        s = np.float32(m / 127)
        return (np.clip(np.rint(a / s), -127, 127) * s).astype(np.float32)
    return apply(tensors, f)


def prune_magnitude(tensors, share):
    """Zero the smallest |x| share of every tensor of 2+ dimensions."""
    def f(n, a):
        if a.ndim < 2 or a.size < 4:
            return a
        k = int(round(share * a.size))
        order = np.argsort(np.abs(a).ravel(), kind="stable")
        b = a.ravel().copy()
        b[order[:k]] = 0
        return b.reshape(a.shape)
    return apply(tensors, f)


def prune_2_4(tensors):
    """In every 4 consecutive values along the last axis keep the 2 largest
    |x| (tensors of 2+ dimensions whose last axis is a multiple of 4)."""
    def f(n, a):
        if a.ndim < 2 or a.shape[-1] % 4:
            return a
        g = a.reshape(-1, 4).copy()
        order = np.argsort(np.abs(g), axis=1, kind="stable")
        np.put_along_axis(g, order[:, :2], 0, axis=1)
        return g.reshape(a.shape)
    return apply(tensors, f)


def merge(parts, coefs):
    """sum coef_i * parts_i, float tensors only (others from parts[0])."""
    out = []
    for i, (n, a) in enumerate(parts[0]):
        if a.dtype != np.float32:
            out.append((n, a))
            continue
        acc = np.zeros(a.shape, np.float64)
        for c, p in zip(coefs, parts):
            acc += c * p[i][1].astype(np.float64)
        out.append((n, acc.astype(np.float32)))
    return out


def renamed(tensors):
    """Every name changed (prefix, '/' -> '.') and the order reversed."""
    return [("renamed." + n.replace("/", ".") + ".w", a)
            for n, a in reversed(tensors)]


def dense_pair(tensors):
    """A hidden layer: 2-D kernels K1 [a, h] and K2 [h, b] (TF.js kernels
    are [in, out]) and the 1-D tensors of length h; None if there is none."""
    fl = floats(tensors)
    for n1, a1 in fl:
        if a1.ndim != 2 or a1.shape[1] < 4:
            continue
        h = a1.shape[1]
        for n2, a2 in fl:
            if n2 != n1 and a2.ndim == 2 and a2.shape[0] == h:
                vec = [n for n, a in fl if a.ndim == 1 and a.shape[0] == h]
                return n1, n2, vec
    return None


def conv_pair(tensors):
    """Else a convolution: a 4-D kernel K1 [.., .., in, h] with a 1-D
    tensor of length h under its layer's prefix, and the first other 4-D
    kernel K2 [.., .., h, out] (out > 1: not a depthwise kernel)."""
    fl = floats(tensors)
    for n1, a1 in fl:
        if a1.ndim != 4 or a1.shape[3] < 4:
            continue
        h, prefix = a1.shape[3], n1.rsplit("/", 1)[0] + "/"
        vec = [n for n, a in fl if a.ndim == 1 and a.shape[0] == h
               and n.startswith(prefix)]
        k2 = [n for n, a in fl if n != n1 and a.ndim == 4
              and a.shape[2] == h and a.shape[3] > 1]
        if vec and k2:
            return n1, k2[0], vec
    return None


def permuted(tensors, seed):
    """Permute the hidden units of one layer: K1's output axis (the last),
    its bias and batch-norm vectors, and K2's input axis (the rows of a
    dense kernel, axis 2 of a convolution). Returns (tensors, note, the
    names of the permuted tensors, the permutation)."""
    pair = dense_pair(tensors) or conv_pair(tensors)
    if not pair:
        return None, None, None, None
    n1, n2, vec = pair
    h = dict(tensors)[n1].shape[-1]
    perm = rng_for(seed, "perm").permutation(h)
    while np.array_equal(perm, np.arange(h)):
        perm = rng_for(seed + 1, "perm").permutation(h)

    def f(n, a):
        if n == n1:
            return a[..., perm]
        if n == n2:
            return a[perm, :] if a.ndim == 2 else a[:, :, perm, :]
        if n in vec:
            return a[perm]
        return a
    note = (f"hidden units of {n1} (output axis) permuted, with {n2} "
            f"(input axis) and {', '.join(vec)}; permutation "
            f"{perm.tolist()}")
    return apply(tensors, f), note, [n1, n2] + vec, perm.tolist()


# --- the case sets ---------------------------------------------------------


class Out:
    def __init__(self, outdir, model):
        self.dir = outdir
        self.doc = {"model": model, "references": {}, "cases": {}}

    def write(self, name, tensors, floats_as="F32", tfjs=True, meta=None,
              tfjs_f16=False):
        st = os.path.join(self.dir, name + ".safetensors")
        write_safetensors(st, tensors, floats_as,
                          (meta or {}).get("__metadata__"))
        tj = None
        if tfjs:
            tj = os.path.join(self.dir, name + ".tfjs")
            write_tfjs(tj, tensors, tfjs_f16, (meta or {}).get("tfjs"))
            tj = os.path.join(tj, "model.json")
        return {"safetensors": st, "tfjs": tj}

    def ref(self, name, tensors):
        self.doc["references"][name] = self.write(name, tensors)

    def case(self, name, tensors, relation, parents, coefs=None, note="",
             extra=None, **kw):
        files = self.write(name, tensors, **kw)
        self.doc["cases"][name] = {
            "file": files, "relation": relation, "parents": parents,
            "coefficients": coefs,
            "related": relation not in ("unrelated", "none"), "note": note}
        self.doc["cases"][name].update(extra or {})

    def save(self):
        with open(os.path.join(self.dir, "cases.json"), "w",
                  encoding="utf-8") as f:
            json.dump(self.doc, f, indent=1)


def lineage_set(o, parent, seed):
    o.ref("parent", parent)
    other1 = shuffled(parent, seed, "other1")
    other2 = shuffled(parent, seed, "other2")
    o.ref("other1", other1)
    o.ref("other2", other2)
    meta = {"__metadata__": {"format": "pt", "note": "a copy, renamed"},
            "tfjs": {"generatedBy": "someone else", "convertedBy": "copy 2",
                     "userDefinedMetadata": {"copied": "yes"}}}
    o.case("copy-of-it", parent, "copy", ["parent"],
           note="same values, new file name and metadata", meta=meta)
    o.case("f16", parent, "dtype", ["parent"], floats_as="F16",
           tfjs_f16=True, note="F32 -> F16 (TF.js: quantization float16)")
    o.case("bf16", parent, "dtype", ["parent"], floats_as="BF16",
           tfjs=False, note="F32 -> BF16, round to nearest even "
           "(TF.js has no bfloat16: safetensors only)")
    o.case("int8", int8_roundtrip(parent), "quant", ["parent"],
           note="int8 symmetric per tensor, dequantized to F32")
    o.case("finetune", noisy(parent, seed, "ft", 0.02), "finetune",
           ["parent"], note="gaussian noise, sigma 0.02 x tensor std")
    o.case("finetune-strong", noisy(parent, seed, "fts", 0.3), "finetune",
           ["parent"], note="gaussian noise, sigma 0.3 x tensor std")
    o.case("prune50", prune_magnitude(parent, 0.5), "prune", ["parent"],
           note="magnitude pruning 50 % of every 2+-D tensor, unstructured")
    o.case("prune24", prune_2_4(parent), "prune", ["parent"],
           note="2:4 along the last axis (2+-D tensors, last axis % 4 == 0)")
    o.case("merge2", merge([parent, other1], [0.3, 0.7]), "merge",
           ["parent", "other1"], [0.3, 0.7], note="0.3 parent + 0.7 other1")
    o.case("merge3", merge([parent, other1, other2], [0.2, 0.3, 0.5]),
           "merge", ["parent", "other1", "other2"], [0.2, 0.3, 0.5],
           note="0.2 parent + 0.3 other1 + 0.5 other2")
    o.case("renamed", renamed(parent), "renamed", ["parent"],
           note="every name changed ('renamed.' prefix, '/' -> '.', "
           "'.w' suffix), order reversed")
    p, note, names, perm = permuted(parent, seed)
    if p is not None:
        o.case("permuted", p, "permuted", ["parent"], note=note,
               extra={"tensors": names, "permutation": perm})
    o.case("random", random_like(parent, seed, "random"), "unrelated", [],
           note="values drawn with each tensor's mean and std")


def calibration_set(o, parent, seed):
    o.ref("parent", parent)
    other = shuffled(parent, seed, "other1")
    rng = rng_for(seed, "calibration")
    for k in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0):
        o.case(f"noise-{k}", noisy(parent, seed, f"n{k}", k), "finetune",
               ["parent"], note=f"gaussian noise, sigma {k} x tensor std",
               tfjs=False)
    for share in (0.3, 0.4, 0.5, 0.6, 0.7):
        o.case(f"prune-{share}", prune_magnitude(parent, share), "prune",
               ["parent"], note=f"magnitude pruning {share}", tfjs=False)
    o.case("prune-2-4", prune_2_4(parent), "prune", ["parent"], tfjs=False)
    o.case("int8", int8_roundtrip(parent), "quant", ["parent"], tfjs=False)
    o.case("prune-int8", int8_roundtrip(prune_magnitude(parent, 0.5)),
           "quant", ["parent"], note="pruned 50 % then int8", tfjs=False)
    for i in range(3):
        c = float(np.round(rng.uniform(0.5, 0.9), 2))
        o.case(f"merge-{i}", merge([parent, other], [c, 1 - c]), "merge",
               ["parent"], [c, 1 - c], tfjs=False,
               note=f"{c} parent + {1 - c:.2f} shuffled")
    for i in range(5):
        o.case(f"shuffled-{i}", shuffled(parent, seed, f"sh{i}"),
               "unrelated", [], note="every tensor's values shuffled",
               tfjs=False)
        o.case(f"random-{i}", random_like(parent, seed, f"rnd{i}"),
               "unrelated", [], note="values drawn with each tensor's "
               "mean and std", tfjs=False)


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    seed = 1
    for a in argv:
        if a.startswith("--seed="):
            seed = int(a[7:])
    if len(args) != 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    model, outdir = args
    selftest()
    os.makedirs(outdir, exist_ok=True)
    parent = read_tfjs(model)
    if not floats(parent):
        raise SystemExit(f"{model}: no float32 weights")
    o = Out(outdir, model)
    if "--calibration" in argv:
        calibration_set(o, parent, seed)
    else:
        lineage_set(o, parent, seed)
    o.save()


if __name__ == "__main__":
    main(sys.argv[1:])
