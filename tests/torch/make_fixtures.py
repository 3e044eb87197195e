#!/usr/bin/python3
"""Write the PyTorch fixtures of tests/check_torch.c and tests/torch.sh,
once, with Debian's python3-torch (1.13):  /usr/bin/python3 make_fixtures.py
in tests/torch.  Also writes oracle.json: per file, per tensor (names
flattened here as "a.b.0.c"), the dtype, shape, sum and first values that
torch computes.  The hostile files (hostile-*) are built from the benign
ones or pickled by hand and are not in the oracle."""
import collections, io, json, os, pickle, zipfile
import torch

torch.manual_seed(7)
HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
DT = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
      torch.bfloat16: "BF16", torch.int8: "I8", torch.uint8: "U8",
      torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
      torch.bool: "BOOL"}
oracle = {}


def flat(obj, prefix, out):
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flat(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flat(v, f"{prefix}.{i}" if prefix else str(i), out)


def record(fname, obj, single=None):
    out = {}
    flat(obj, "", out)
    if "" in out:
        out = {single: out.pop("")}
    rec = {}
    for k, t in out.items():
        d = t.detach().to(torch.float64).flatten()
        rec[k] = {"dtype": DT[t.dtype], "shape": list(t.shape),
                  "sum": float(d.sum()), "first": d[:4].tolist()}
    oracle[fname] = rec


def ints(n, dtype, lo=-50, hi=50):
    return torch.randint(lo, hi, (n,)).to(dtype)


dtypes = {
    "f32": torch.randn(3, 4), "f64": torch.randn(5, dtype=torch.float64),
    "f16": torch.randn(2, 3).half(), "bf16": torch.randn(2, 2).bfloat16(),
    "i8": ints(6, torch.int8), "u8": ints(6, torch.uint8, 0, 255),
    "i16": ints(4, torch.int16), "i32": ints(4, torch.int32),
    "i64": ints(3, torch.int64, -10**6, 10**6),
    "bool": torch.tensor([True, False, True, True]),
}
torch.save(dtypes, "dtypes.pt")
record("dtypes.pt", dtypes)

nested = {"enc": {"layers": [{"w": torch.randn(2, 3), "b": torch.randn(3)},
                             (torch.arange(4.0), torch.ones(1, 2))]},
          "step": 5, "name": "run-1", "opt": {"lr": 0.1, "betas": (0.9, 0.99)},
          "dtype": torch.float32, "size": torch.Size([2, 3])}
torch.save(nested, "nested.pt")
record("nested.pt", nested)

lin = torch.nn.Linear(3, 2)
sd = lin.state_dict()  # an OrderedDict
torch.save(sd, "ordered.pt")
record("ordered.pt", sd)
params = {"p": torch.nn.Parameter(torch.randn(2, 2))}
torch.save(params, "parameter.pt")
record("parameter.pt", params)

wrapped = {"state_dict": sd, "epoch": 3}
torch.save(wrapped, "wrap_state_dict.pt")
record("wrap_state_dict.pt", sd)
opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
lin(torch.randn(1, 3)).sum().backward()
opt.step()
wm = {"model": lin.state_dict(), "optimizer": opt.state_dict()}
torch.save(wm, "wrap_model.pt")
record("wrap_model.pt", lin.state_dict())

base = torch.arange(24, dtype=torch.float32) * 0.5 - 3
views = {"base": base, "slice": base[4:10], "row": base.view(4, 6)[2],
         "t": base.view(4, 6).t(), "step": base[1::3],
         "sub": base.view(4, 6)[1:3, 2:5]}
torch.save(views, "views.pt")
record("views.pt", views)

torch.save(torch.randn(2, 5), "single.pt")
record("single.pt", torch.load("single.pt"), "single")

legacy = {"w": torch.randn(3, 2), "h": torch.randn(4).half(),
          "i": ints(5, torch.int64), "v": base[3:9], "t": base.view(4, 6).t(),
          "m": {"x": torch.tensor([True, False])}}
torch.save(legacy, "legacy.pt", _use_new_zipfile_serialization=False)
record("legacy.pt", legacy)

plain = {"x": torch.randn(2, 3), "y": [torch.arange(5, dtype=torch.int32)],
         "note": "sweep"}
for proto in (2, 4):  # bytes are _codecs.encode(..., 'latin1') in 2
    with open(f"plain{proto}.pkl", "wb") as f:
        pickle.dump(plain, f, protocol=proto)
    record(f"plain{proto}.pkl", plain)

# the dtypes archive again, every member deflated by Python's zipfile
with zipfile.ZipFile("dtypes.pt") as src, \
        zipfile.ZipFile("deflated.pt", "w", zipfile.ZIP_DEFLATED) as dst:
    for i in src.infolist():
        dst.writestr(i.filename, src.read(i.filename))
record("deflated.pt", dtypes)

os.makedirs("sharded", exist_ok=True)
s1 = {"a.weight": torch.randn(2, 2), "a.bias": torch.randn(2)}
s2 = {"b.weight": torch.randn(3, 2).half()}
torch.save(s1, "sharded/pytorch_model-00001-of-00002.bin")
torch.save(s2, "sharded/pytorch_model-00002-of-00002.bin",
           _use_new_zipfile_serialization=False)
wmap = {k: "pytorch_model-00001-of-00002.bin" for k in s1}
wmap.update({k: "pytorch_model-00002-of-00002.bin" for k in s2})
with open("sharded/pytorch_model.bin.index.json", "w") as f:
    json.dump({"metadata": {"total_size": 40}, "weight_map": wmap}, f,
              indent=1)
record("sharded/pytorch_model.bin.index.json", {**s1, **s2})

# --- hostile corners ------------------------------------------------------


class Stor:
    """Pickled as the persistent id ('storage', FloatStorage, key, ...)."""
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class Fake:
    """Pickled as _rebuild_tensor_v2(storage, offset, size, stride, ...)."""
    def __init__(self, st, off, size, stride):
        self.a = (st, off, size, stride)

    def __reduce__(self):
        st, off, size, stride = self.a
        return (torch._utils._rebuild_tensor_v2,
                (st, off, size, stride, False, collections.OrderedDict()))


class P(pickle.Pickler):
    def persistent_id(self, o):
        if isinstance(o, Stor):
            return ("storage", torch.FloatStorage, o.key, "cpu", o.numel)
        return None


def fake_zip(name, obj, storages):
    b = io.BytesIO()
    P(b, protocol=2).dump(obj)
    with zipfile.ZipFile(name, "w") as z:
        z.writestr("archive/data.pkl", b.getvalue())
        for k, n in storages.items():
            z.writestr(f"archive/data/{k}", bytes(4 * n))
        z.writestr("archive/version", "3\n")


fake_zip("hostile-past-storage.pt",
         {"w": Fake(Stor("0", 4), 2, (3,), (1,))}, {"0": 4})
fake_zip("hostile-missing-key.pt",
         {"w": Fake(Stor("7", 4), 0, (4,), (1,))}, {"0": 4})
fake_zip("hostile-huge-shape.pt",
         {"w": Fake(Stor("0", 4), 0, (1 << 40, 1 << 40), (1 << 40, 1))},
         {"0": 4})
fake_zip("hostile-big-stride.pt",
         {"w": Fake(Stor("0", 4), 0, (2, 2), (1 << 62, 1))}, {"0": 4})
deep = {"w": torch.zeros(1)}
for _ in range(300):
    deep = {"d": deep}
torch.save(deep, "hostile-deep.pt")
torch.save({"c": torch.zeros(2, dtype=torch.cfloat)}, "hostile-complex.pt")
with open("legacy.pt", "rb") as f:
    data = f.read()
with open("hostile-truncated-legacy.pt", "wb") as f:
    f.write(data[:len(data) - 7])
with open("dtypes.pt", "rb") as f:
    data = f.read()
with open("hostile-truncated.pt", "wb") as f:
    f.write(data[:len(data) // 2])

with open("oracle.json", "w") as f:
    json.dump(oracle, f, indent=1, sort_keys=True)
    f.write("\n")
