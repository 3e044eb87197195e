#!/usr/bin/python3
"""bench/spectral_classes.py — per-shape-class costs of `spectral` and the
projection to a 7B model, for bench/spectral.sh.

  spectral_classes.py split MODEL.safetensors OUTDIR
      one single-tensor safetensors file per distinct 2-D shape of MODEL;
      prints "ROWS COLS FILE" per class.
  spectral_classes.py project COSTS THREADS
      COSTS holds "ROWS COLS CPU_SECONDS" lines (one matrix each, one
      thread); prints each class's GFLOP/s and the projected seconds of 32
      layers of LLaMA-7B shapes (hidden 4096, intermediate 11008, vocab
      32000) over THREADS threads, each 7B matrix costed at the rate of the
      measured class of its route (exact / randomized) nearest in size.

Flops: randomized 12 m n l + n l^2 (l = 266: the sketch, two power
iterations, the projected Gram matrix), exact Gram route m^2 n, with
m = min(rows, cols), n = max(rows, cols) (DESIGN.md §5)."""
import json
import struct
import sys

K, OVER, LIMIT = 256, 10, 1024


def flops(rows, cols):
    m, n = min(rows, cols), max(rows, cols)
    if m <= LIMIT:
        return "exact", float(m) * m * n
    l = min(K + OVER, m)
    return "randomized", 12.0 * m * n * l + float(n) * l * l


def split(path, out):
    with open(path, "rb") as f:
        (hlen,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(hlen))
        base = 8 + hlen
        seen = set()
        for name, t in header.items():
            if name == "__metadata__" or len(t["shape"]) != 2:
                continue
            shape = tuple(t["shape"])
            if shape in seen:
                continue
            seen.add(shape)
            a, b = t["data_offsets"]
            f.seek(base + a)
            data = f.read(b - a)
            h = json.dumps({"w": {"dtype": t["dtype"], "shape": list(shape),
                                  "data_offsets": [0, b - a]}}).encode()
            h += b" " * (-len(h) % 8)
            fn = "%s/class-%dx%d.safetensors" % (out, shape[0], shape[1])
            with open(fn, "wb") as g:
                g.write(struct.pack("<Q", len(h)) + h + data)
            print(shape[0], shape[1], fn)


def project(costs, threads):
    classes = []
    for line in open(costs):
        r, c, s = line.split()
        route, fl = flops(int(r), int(c))
        classes.append((int(r), int(c), route, fl, float(s)))
        print("  class %6s x %-6s %-10s %7.2f s CPU  %6.1f GFLOP/s" % (
            r, c, route, float(s), fl / float(s) / 1e9))
    h, i, v = 4096, 11008, 32000
    shapes = [(v, h), (v, h)] + 32 * [(h, h)] * 4 + 32 * [(i, h), (i, h), (h, i)]
    total = 0.0
    for r, c in shapes:
        route, fl = flops(r, c)
        same = [k for k in classes if k[2] == route] or classes
        near = min(same, key=lambda k: abs(k[0] * k[1] - r * c))
        total += fl * near[4] / near[3]
    print("7B projection (32 layers of LLaMA-7B shapes, %d matrices): %.0f s CPU,"
          " %.0f s on %d threads" % (len(shapes), total, total / threads, threads))


if sys.argv[1] == "split":
    split(sys.argv[2], sys.argv[3])
else:
    project(sys.argv[2], int(sys.argv[3]))
