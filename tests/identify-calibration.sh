#!/bin/sh
# tests/identify-calibration.sh — the calibration report of modelprint
# identify: related cases (noise at several levels, pruning 30-70 %, int8,
# merges) and unrelated ones (shuffled and random weights of the same
# architecture, other corpus models) built by tests/lineage_cases.py
# --calibration from three corpus models, each identified against its
# parent alone. The cases are split in two halves by a fixed seed; on the
# first half the thresholds on "final" and on "pearson" that best separate
# related from unrelated are chosen; on the held-out half the built-in
# verdict's and the chosen thresholds' precision and recall are printed.
# Fails when the built-in verdict's precision or recall on the held-out
# half is below 0.95. Needs python3 with numpy (Debian's python3-numpy).
set -eu
. "${MP_SRCDIR:-$(dirname "$0")/..}/tests/lineage-lib.sh"

set -- liveness emotion gender
for m do
	$PY "$src/tests/lineage_cases.py" --calibration "$models/$m.json" "$T/$m" ||
		fail "lineage_cases.py --calibration $m"
done
[ "$FAILS" = 0 ] || finish

# Other corpus models, unrelated to every parent (other architectures, or
# the same layer names with other weights).
others="age.json gender-ssrnet-imdb.json blazeface-front.json antispoof.json"

$PY - "$MP_BIN" "$T" "$models" "$others" "$@" <<'PY'
import json, os, random, subprocess, sys

mp, tdir, models, others, names = sys.argv[1], sys.argv[2], sys.argv[3], \
    sys.argv[4].split(), sys.argv[5:]
rows = []  # (label, case, related, final, pearson, predicted related)
for m in names:
    doc = json.load(open(os.path.join(tdir, m, "cases.json")))
    parent = doc["references"]["parent"]["safetensors"]
    todo = [(f"{m}/{c}", v["file"]["safetensors"], v["related"])
            for c, v in doc["cases"].items()]
    todo += [(f"{m}/corpus:{o}", os.path.join(models, o), False)
             for o in others]
    for label, unknown, related in todo:
        p = subprocess.run([mp, "identify", unknown, "--json", parent],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(f"FAIL: identify {unknown} {parent}: exit {p.returncode}: "
                  f"{(p.stderr.strip().splitlines() or [''])[0]}")
            sys.exit(1)
        j = json.loads(p.stdout)
        r = [x for x in j["ranking"] if x["id"] == parent]
        fin = r[0]["final"] if r and r[0]["final"] is not None else None
        pea = r[0]["pearson"] if r and r[0]["pearson"] is not None else None
        pred = bool(j["verdict"]["match"]) and j["verdict"]["id"] == parent
        rows.append((label, related, fin, pea, pred))

random.Random(20261201).shuffle(rows)
half = len(rows) // 2
train, test = rows[:half], rows[half:]

def pr(pairs):
    """precision, recall, accuracy of [(truth, predicted)]"""
    tp = sum(1 for t, p in pairs if t and p)
    fp = sum(1 for t, p in pairs if not t and p)
    fn = sum(1 for t, p in pairs if t and not p)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    return prec, rec, sum(1 for t, p in pairs if t == p) / len(pairs)

def choose(col):
    """The threshold (score >= t means related) of best accuracy on train:
    candidates are the midpoints between successive scores, and of those
    of best accuracy the middle one (null scores count as below every
    threshold)."""
    vals = sorted({x[col] for x in train if x[col] is not None})
    cands = [vals[0] - 1e-9] + [(a + b) / 2 for a, b in zip(vals, vals[1:])] \
        + [vals[-1] + 1e-9]
    def acc(t):
        return pr([(x[1], x[col] is not None and x[col] >= t)
                   for x in train])[2]
    best = max(acc(t) for t in cands)
    tied = [t for t in cands if acc(t) == best]
    return tied[len(tied) // 2], best

nrel = sum(1 for x in rows if x[1])
print(f"calibration: {len(rows)} cases ({nrel} related, {len(rows) - nrel} "
      f"unrelated) from {', '.join(names)}; chosen on {len(train)}, "
      f"held out {len(test)}")
fails = 0
for col, key in ((2, "final"), (3, "pearson")):
    t, a = choose(col)
    p, r, acc = pr([(x[1], x[col] is not None and x[col] >= t) for x in test])
    print(f"calibration: threshold {key} >= {t:.4f} (train accuracy {a:.3f}):"
          f" held-out precision {p:.3f} recall {r:.3f} accuracy {acc:.3f}")
    rel = [x[col] for x in rows if x[1] and x[col] is not None]
    unr = [x[col] for x in rows if not x[1] and x[col] is not None]
    print(f"calibration: {key} of the related cases {min(rel):.4f} to "
          f"{max(rel):.4f}, of the unrelated "
          + (f"{min(unr):.4f} to {max(unr):.4f}" if unr else "none defined")
          + f" ({sum(1 for x in rows if not x[1] and x[col] is None)} "
          "undefined: no compatible architecture)")
p, r, acc = pr([(x[1], x[4]) for x in test])
print(f"calibration: built-in verdict: held-out precision {p:.3f} recall "
      f"{r:.3f} accuracy {acc:.3f}")
for x in test:
    if x[1] != x[4]:
        print(f"  held-out miss: {x[0]} related={x[1]} verdict={x[4]} "
              f"final={x[2]} pearson={x[3]}")
for x in train:
    if x[1] != x[4]:
        print(f"  training-half miss: {x[0]} related={x[1]} verdict={x[4]} "
              f"final={x[2]} pearson={x[3]}")
if p < 0.95 or r < 0.95:
    print(f"FAIL: built-in verdict below 0.95 on the held-out half "
          f"(precision {p:.3f}, recall {r:.3f})")
    sys.exit(1)
print("ok: built-in verdict at least 0.95 precision and recall held out")
PY
