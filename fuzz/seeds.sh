#!/bin/sh
# fuzz/seeds.sh — write the seed corpora of the harnesses into
# OUT/seeds-<harness>/ (default fuzz/out), from real files:
#   tfjs         the TF.js models of the real corpus (MODELPRINT_CORPUS_CACHE,
#                default ~/.cache/modelprint/corpus; tests/corpus.sh fetches
#                it) whose model.json and shards total at most SEED_CAP bytes
#                (default 262144), each also cut down to its first weights
#                (at most 8 KiB of them) in two shards, and some of those
#                with every hazard of fuzz_model.c planted on a shard
#   safetensors  tests/broken/st-* (files, and directories with their index
#                and shards), small generated files of every dtype, a
#                sharded model with its index, with hazards as above
#   pytorch      tests/torch/* (every dtype, views, legacy, plain pickles,
#                a sharded pair with its index), tests/broken/pt-* and
#                np-*, the pickle fixtures of ../shared/fixtures/pickle,
#                tests/broken/llama2c-* and two small llama2.c checkpoints
#                (shared and separate classifier)
#   gguf         tests/broken/gguf-*, the GGUF fixtures of
#                ../shared/fixtures/gguf under SEED_CAP, cut-down copies
#                (header and first tensors) of the others, a two-shard pair
#   config registry fingerprint results modelinfo index   data/demo and
#                tests/broken files under 100 KiB, plus small ones cut from
#                the demo results and registry
#   tui          a small matrix and keys, the demo results cut down
# Inputs of fuzz_model.c are packed in its format: flags byte, hazard byte,
# then "name\n" + bytes per file, files separated by "@@MPF@@".
#   fuzz/seeds.sh [OUT]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/fuzz/out}
command -v python3 >/dev/null 2>&1 || {
	echo "fuzz/seeds.sh: python3 is needed (Debian package python3)" >&2
	exit 1
}
exec python3 - "$top" "$out" "${MODELPRINT_CORPUS_CACHE:-$HOME/.cache/modelprint/corpus}" \
	"${SEED_CAP:-262144}" <<'EOF'
import glob, json, os, struct, sys

top, out, corpus, cap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
SEP = b"@@MPF@@"


def put(kind, name, data):
    d = os.path.join(out, "seeds-" + kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pack(flags, which, files):
    """files: list of (name, bytes); the first one is opened (flags & 3 == 0)."""
    return bytes([flags, which]) + SEP.join(n.encode() + b"\n" + b for n, b in files)


def with_hazards(kind, name, files, which):
    # hazards 1-4 (symlinks) always, 5 (FIFO) and 6 (truncation) for FUZZ_HAZARDS
    for h in range(1, 7):
        put(kind, "%s-hazard%d" % (name, h), pack(h << 2, which, files))


# --- TF.js ---------------------------------------------------------------
TF_SIZE = {"float32": 4, "int32": 4, "bool": 1, "uint8": 1, "uint16": 2,
           "float16": 2, "string": None, "complex64": 8}


def tfjs_models():
    for j in sorted(glob.glob(os.path.join(corpus, "**", "*.json"), recursive=True)):
        try:
            doc = json.load(open(j, "rb"))
        except Exception:
            continue
        man = doc if isinstance(doc, list) else doc.get("weightsManifest") if isinstance(doc, dict) else None
        if not isinstance(man, list) or not man or not all(isinstance(g, dict) and "paths" in g for g in man):
            continue
        d = os.path.dirname(j)
        paths = [p for g in man for p in g["paths"]]
        if not all(os.path.isfile(os.path.join(d, p)) for p in paths):
            continue
        yield j, doc, man, d, paths


def weight_bytes(w):
    q = w.get("quantization")
    size = TF_SIZE.get(q["dtype"] if q else w.get("dtype"))
    if size is None:
        return None
    n = 1
    for s in w.get("shape", []):
        n *= s
    return n * size


n_full = n_cut = 0
for j, doc, man, d, paths in tfjs_models():
    base = os.path.basename(j)[:-5]
    total = os.path.getsize(j) + sum(os.path.getsize(os.path.join(d, p)) for p in paths)
    if total <= cap:
        files = [(os.path.basename(j), open(j, "rb").read())]
        files += [(p, open(os.path.join(d, p), "rb").read()) for p in paths]
        put("tfjs", "real-" + base, pack(0, 1, files))
        n_full += 1
    # cut down: the first group's first weights, at most 8 KiB, in two shards
    g = man[0]
    blob = b"".join(open(os.path.join(d, p), "rb").read() for p in g["paths"])
    keep, used = [], 0
    for w in g["weights"]:
        b = weight_bytes(w)
        if b is None or used + b > 8192:
            break
        keep.append(w)
        used += b
    if not keep:
        continue
    half = used // 2
    names = ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    small = [{"paths": names, "weights": keep}]
    mj = {"format": "graph-model", "weightsManifest": small} if isinstance(doc, dict) else small
    files = [("model.json", json.dumps(mj).encode()),
             (names[0], blob[:half]), (names[1], blob[half:used])]
    put("tfjs", "cut-" + base, pack(0, 1, files))
    if n_cut < 3:
        with_hazards("tfjs", "cut-" + base, files, 1 + n_cut % 2)
    n_cut += 1
print("fuzz/seeds.sh: tfjs: %d real models under %d bytes, %d cut down" % (n_full, cap, n_cut),
      file=sys.stderr)

# --- PyTorch and NumPy -----------------------------------------------------
torch_files = sorted(glob.glob(os.path.join(top, "tests", "torch", "*.p[tk]*")) +
                     glob.glob(os.path.join(top, "tests", "broken", "pt-*")) +
                     glob.glob(os.path.join(top, "tests", "broken", "np-*")) +
                     glob.glob(os.path.join(top, "tests", "broken", "llama2c-*")) +
                     glob.glob(os.path.join(top, "..", "shared", "fixtures", "pickle", "*")))
for p in torch_files:
    if os.path.isfile(p) and os.path.getsize(p) <= cap:
        name = os.path.basename(p)
        put("pytorch", name, pack(0, 0, [(name, open(p, "rb").read())]))
def llama2c(vocab):
    dim, hid, L, H, KV, seq = 8, 16, 1, 2, 1, 4
    V, hs = abs(vocab), dim // H
    n = (V * dim + 2 * L * dim + 2 * L * dim * dim + 2 * L * KV * hs * dim +
         3 * L * hid * dim + dim + seq * hs + (V * dim if vocab < 0 else 0))
    vals = [((i * 37) % 19 - 9) / 32.0 for i in range(n)]
    return struct.pack("<7i", dim, hid, L, H, KV, vocab, seq) + struct.pack("<%df" % n, *vals)
put("pytorch", "llama2c-shared", pack(0, 0, [("model.bin", llama2c(10))]))
put("pytorch", "llama2c-separate", pack(0, 0, [("model.bin", llama2c(-10))]))
sh = os.path.join(top, "tests", "torch", "sharded")
if os.path.isdir(sh):
    files = [(f, open(os.path.join(sh, f), "rb").read()) for f in sorted(os.listdir(sh))
             if os.path.isfile(os.path.join(sh, f))]
    files.sort(key=lambda f: not f[0].endswith(".index.json"))
    put("pytorch", "sharded", pack(0, 0, files))
    with_hazards("pytorch", "sharded", files, 1)

# --- GGUF ------------------------------------------------------------------
gguf_files = sorted(glob.glob(os.path.join(top, "tests", "broken", "gguf-*")) +
                    glob.glob(os.path.join(top, "..", "shared", "fixtures", "gguf", "*.gguf")) +
                    glob.glob(os.path.join(top, "..", "shared", "fixtures", "tokenizer", "*.gguf")))
for p in gguf_files:
    if not os.path.isfile(p):
        continue
    name = os.path.basename(p)
    data = open(p, "rb").read()
    if len(data) > cap:
        data = data[:cap]  # header kept, data cut: a truncation error
    put("gguf", name, pack(0, 0, [("model.gguf", data)]))
def gguf_one(name, vals):
    import struct as st
    s = lambda x: st.pack("<Q", len(x)) + x.encode()
    h = b"GGUF" + st.pack("<IQQ", 3, 1, 1) + s("general.name") + st.pack("<I", 8) + s("m")
    h += s(name) + st.pack("<IQIQ", 1, len(vals), 0, 0)
    h += b"\0" * ((-len(h)) % 32)
    return h + st.pack("<%df" % len(vals), *vals)
shards = [("model-00001-of-00002.gguf", gguf_one("a", [1.0, 2.0])),
          ("model-00002-of-00002.gguf", gguf_one("b", [3.0, 4.0]))]
put("gguf", "sharded", pack(0, 0, shards))
with_hazards("gguf", "sharded", shards, 1)
print("fuzz/seeds.sh: gguf: %d files" % len(gguf_files), file=sys.stderr)

# --- safetensors -----------------------------------------------------------
for p in sorted(glob.glob(os.path.join(top, "tests", "broken", "st-*"))):
    name = os.path.basename(p)
    if os.path.isfile(p):
        put("safetensors", name, pack(0, 0, [(name, open(p, "rb").read())]))
    elif os.path.isdir(p):
        files = [(f, open(os.path.join(p, f), "rb").read()) for f in sorted(os.listdir(p))
                 if os.path.isfile(os.path.join(p, f))]
        if files:
            put("safetensors", name, pack(1, 0, files))
        for f in files:
            if f[0].endswith(".index.json"):
                put("index", name, f[1])

ST = {"F64": ("d", 8), "F32": ("f", 4), "F16": ("e", 2), "I64": ("q", 8), "I32": ("i", 4),
      "I16": ("h", 2), "I8": ("b", 1), "U64": ("Q", 8), "U32": ("I", 4), "U16": ("H", 2),
      "U8": ("B", 1), "BOOL": ("?", 1)}


def st_file(tensors, meta=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    hdr, data = {}, b""
    if meta:
        hdr["__metadata__"] = meta
    for name, dt, shape, raw in tensors:
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(hdr).encode()
    return struct.pack("<Q", len(h)) + h + data


def values(dt, n, k=0):
    if dt == "BF16":
        return b"".join(struct.pack("<f", (i - n / 2 + k) / 7.0)[2:] for i in range(n))
    if dt in ("F8_E4M3", "F8_E5M2"):
        return bytes((i * 37 + k) & 0x7f for i in range(n))
    code, _ = ST[dt]
    if dt == "BOOL":
        return b"".join(struct.pack("<?", (i + k) % 3 == 0) for i in range(n))
    if code in "fde":
        return b"".join(struct.pack("<" + code, (i - n / 2 + k) / 7.0) for i in range(n))
    lim = 1 << (8 * ST[dt][1] - (0 if dt[0] == "U" else 1))
    return b"".join(struct.pack("<" + code, (i * 31 + k) % lim) for i in range(n))


dts = list(ST) + ["BF16", "F8_E4M3", "F8_E5M2"]
for dt in dts:
    t = [("w", dt, [6, 5], values(dt, 30)), ("b", dt, [5], values(dt, 5, 3)),
         ("s", dt, [], values(dt, 1, 1))]
    put("safetensors", "gen-" + dt, pack(0, 0, [("m.safetensors", st_file(t, {"format": "pt"}))]))
# a matrix of 12 x 12 (randomized SVD with exact_limit 4: flags bit 5) and an empty tensor
big = [("layer.weight", "F32", [12, 12], values("F32", 144)), ("empty", "F32", [0, 3], b""),
       ("conv", "F16", [4, 3, 2, 2], values("F16", 48))]
put("safetensors", "gen-matrix", pack(0x20, 0, [("model.safetensors", st_file(big))]))
# sharded, with its index; opened as the index (flags 0), the directory (1)
s1 = st_file([("a.weight", "F32", [4, 4], values("F32", 16)), ("a.bias", "F32", [4], values("F32", 4))])
s2 = st_file([("b.weight", "BF16", [4, 4], values("BF16", 16, 2))])
names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
index = json.dumps({"metadata": {"total_size": 96}, "weight_map": {
    "a.weight": names[0], "a.bias": names[0], "b.weight": names[1]}}).encode()
sharded = [("model.safetensors.index.json", index), (names[0], s1), (names[1], s2)]
put("safetensors", "gen-sharded", pack(0, 1, sharded))
put("safetensors", "gen-sharded-dir", pack(1, 2, sharded))
with_hazards("safetensors", "gen-sharded", sharded, 1)
with_hazards("safetensors", "gen-single", [("m.safetensors", st_file(big))], 0)
# two shards without an index, opened as a directory
put("safetensors", "gen-two-files", pack(1, 0, [("x.safetensors", s1), ("y.safetensors", s2)]))
# index seeds for fuzz_index (its fixed shards hold a, b and c)
put("index", "gen-index", json.dumps({"metadata": {"total_size": 48}, "weight_map": {
    "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
    "c": "model-00002-of-00002.safetensors"}}).encode())
put("index", "gen-index-one", b'{"weight_map":{"c":"model-00002-of-00002.safetensors"}}')

# --- JSON inputs -------------------------------------------------------------
demo = os.path.join(top, "data", "demo")
LIMIT = 100 * 1024


def small(p):
    return os.path.getsize(p) <= LIMIT


put("config", "demo-config", open(os.path.join(demo, "config.json"), "rb").read())
put("config", "min-config", b'{"models":["1","2"],"methods":["tensors"],"metrics":["cosine"]}')
put("config", "args-config", b'{"models":["1","2","3"],"methods":["tensors","spectral"],'
    b'"method_args":{"tensors":{"sketch_size":16,"seed":3},"spectral":{"max_sv":8}},'
    b'"metrics":["cosine","l1","js"]}')
reg = json.load(open(os.path.join(demo, "registry", "models.json")))
put("registry", "demo-models", open(os.path.join(demo, "registry", "models.json"), "rb").read())
put("registry", "small-models", json.dumps(dict(reg, models=reg["models"][:2])).encode())
put("registry", "empty-models", b'{"version":1,"models":[]}')
for p in sorted(glob.glob(os.path.join(demo, "registry", "fingerprints", "*.json"))):
    if small(p):
        put("fingerprint", os.path.basename(p), open(p, "rb").read())
# one cut to its first tensors
fps = sorted(glob.glob(os.path.join(demo, "registry", "fingerprints", "*.tensors.json")),
             key=os.path.getsize)
if fps:
    fp = json.load(open(fps[0]))
    if isinstance(fp.get("tensors"), list):
        fp["tensors"] = fp["tensors"][:3]
        put("fingerprint", "cut.tensors.json", json.dumps(fp).encode())
put("modelinfo", "demo-model-info", open(os.path.join(demo, "model-info.json"), "rb").read())
put("modelinfo", "small-model-info", b'[{"model_id":"1","family":"A","model_type":"x","display_name":"one"},'
    b'{"model_id":"2","family":"A","model_type":"y"},{"model_id":"3","family":"B","model_type":"x"},'
    b'{"model_id":"4","family":"B"}]')
res_path = os.path.join(demo, "results", "similarity_matrices.json")
res = json.load(open(res_path))
if small(res_path):
    put("results", "demo-results", open(res_path, "rb").read())
for k in (3, 6):
    cut = {"matrices": {}}
    for meth, byname in res["matrices"].items():
        cut["matrices"][meth] = {}
        for metric, m in byname.items():
            cut["matrices"][meth][metric] = {"models": m["models"][:k],
                                             "values": [r[:k] for r in m["values"][:k]]}
    txt = json.dumps(cut).encode()
    put("results", "demo-cut%d" % k, txt)
    put("tui", "demo-cut%d" % k, txt + b"\0" + b"2jl+o-m34f\r1s\r?q")
put("tui", "seed", b'{"matrices":{"tensors":{"cosine":{"models":["a","b","c"],"values":'
    b'[[1,0.5,null],[0.5,1,0.2],[null,0.2,1]]}},"spectral":{"js":{"models":["a","b"],'
    b'"values":[[0,0.1],[0.1,0]]}}}}\0' + b"2jl+o-m34f\r1s\r?q")
EOF
