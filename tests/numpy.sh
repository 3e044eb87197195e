#!/bin/sh
# tests/numpy.sh — NumPy files end to end: a .npy and an .npz (one stored
# and one deflated member, written as numpy's savez does, with ZIP64 local
# extras) produced by python3's struct and zipfile modules are fingerprinted,
# and every tensor's shape, byte hash and statistics are compared with values
# python3 computes from the same numbers; so are a big-endian .npy and a
# Fortran-order one (read as little-endian C order).
. "$MP_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }

python3 - "$T" <<'EOF'
import struct, sys, zipfile
d = sys.argv[1]

def npy(descr, shape, raw, fortran=False):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %r, }" % (descr, fortran, tuple(shape))
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + raw

w = [((i * 37) % 23 - 11) / 8.0 for i in range(12)]
open(d + "/w.npy", "wb").write(npy("<f4", (3, 4), struct.pack("<12f", *w)))
open(d + "/be.npy", "wb").write(npy(">f4", (3, 4), struct.pack(">12f", *w)))
# w as a 3x4 C array, stored column by column
wf = [w[4 * i + j] for j in range(4) for i in range(3)]
open(d + "/fo.npy", "wb").write(npy(">f4", (3, 4), struct.pack(">12f", *wf), True))
b = [i * 0.001 - 0.003 for i in range(7)]
k = [(-1) ** i * i for i in range(6)]
with zipfile.ZipFile(d + "/m.npz", "w") as z:
    for name, data, how in (("dense/bias.npy", npy("<f8", (7,), struct.pack("<7d", *b)), zipfile.ZIP_STORED),
                            ("kernel.npy", npy("<i2", (2, 3), struct.pack("<6h", *k)), zipfile.ZIP_DEFLATED)):
        zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
        zi.compress_type = how
        with z.open(zi, "w", force_zip64=True) as f:
            f.write(data)
EOF

# check FILE NAME=VALUES...: the fingerprint's tensors against python3
check() {
	f=$1
	shift
	"$MP_BIN" fingerprint --json "$T/$f" >"$T/fp.json" 2>"$T/err" ||
		{ fail "$f: fingerprint failed: $(cat "$T/err")"; return 1; }
	python3 - "$T/fp.json" "$T/$f" "$@" <<'EOF' || { fail "$f: values differ"; return 1; }
import hashlib, json, math, struct, sys
fp = json.load(open(sys.argv[1]))["fingerprints"][0]
got = {t["name"]: t for t in fp["tensors"]}
want = {
    "be": ("<12f", [((i * 37) % 23 - 11) / 8.0 for i in range(12)], [3, 4]),
    "fo": ("<12f", [((i * 37) % 23 - 11) / 8.0 for i in range(12)], [3, 4]),
    "w": ("<12f", [((i * 37) % 23 - 11) / 8.0 for i in range(12)], [3, 4]),
    "dense/bias": ("<7d", [i * 0.001 - 0.003 for i in range(7)], [7]),
    "kernel": ("<6h", [(-1) ** i * i for i in range(6)], [2, 3]),
}
bad = 0
assert fp["format"] == "numpy", fp["format"]
assert sorted(got) == sorted(sys.argv[3:]), sorted(got)
for name in sys.argv[3:]:
    fmt, v, shape = want[name]
    v = list(struct.unpack(fmt, struct.pack(fmt, *v)))  # as stored
    t = got[name]
    s = t.get("stats")  # floating tensors only
    exp = {"mean": sum(v) / len(v), "min": min(v), "max": max(v),
           "l2_norm": math.sqrt(sum(x * x for x in v))}
    if t["shape"] != shape or t["numel"] != len(v):
        print(name, "shape", t["shape"], "want", shape); bad += 1
    if t["sha256"] != hashlib.sha256(struct.pack(fmt, *v)).hexdigest():
        print(name, "sha256 differs"); bad += 1
    if s is None and fmt[-1] in "fd":
        print(name, "no stats"); bad += 1
    for key, e in exp.items() if s else ():
        if abs(s[key] - e) > 1e-12 * max(1.0, abs(e)):
            print(name, key, s[key], "want", e); bad += 1
sys.exit(1 if bad else 0)
EOF
}

if check w.npy w; then ok "npy values"; fi
if check m.npz dense/bias kernel; then ok "npz values (stored and deflated)"; fi

if check be.npy be; then ok "big-endian npy values"; fi
if check fo.npy fo; then ok "Fortran-order big-endian npy values"; fi
finish
