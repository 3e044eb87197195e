#!/bin/sh
# tests/identify.sh — modelprint identify on lineage cases built from the
# real TF.js corpus by tests/lineage_cases.py (one per relation, in
# safetensors and TF.js), against reference files and against a registry;
# and on real pairs of the corpus whose relation a person can check from
# the files. Needs python3 with numpy (Debian's python3-numpy).
set -eu
. "${MP_SRCDIR:-$(dirname "$0")/..}/tests/lineage-lib.sh"

# Three small float32 corpus models: liveness has a dense hidden layer (its
# permuted case permutes it), emotion and gender are all convolutions (the
# permuted case permutes a convolution's output channels).
for m in liveness emotion gender; do
	$PY "$src/tests/lineage_cases.py" "$models/$m.json" "$T/$m" ||
		{ fail "lineage_cases.py $m"; continue; }
done

# check.py DIR [--against REG ids.json]: run identify on every case of DIR
# (both formats) and assert relation, parent and merge coefficients.
cat > "$T/check.py" <<'PY'
import json, os, subprocess, sys

mp, d = sys.argv[1], sys.argv[2]
against = sys.argv[3] if len(sys.argv) > 3 else None
cases = json.load(open(os.path.join(d, "cases.json")))
fails = 0

def run(unknown, refs):
    args = [mp, "identify", unknown, "--json"]
    args += ["--against", against] if against else refs
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"exit {p.returncode}: {(p.stderr.strip().splitlines() or [''])[0]}"
    try:
        return json.loads(p.stdout), None
    except ValueError as e:
        return None, f"no JSON ({e}): {p.stdout[:200]}"

if against:
    ids = json.load(open(sys.argv[4]))  # reference name -> registry id
else:
    ids = {k: v["safetensors"] for k, v in cases["references"].items()}
refs = [ids[k] for k in ("parent", "other1", "other2")]
model = os.path.basename(d)
only = sys.argv[5].split(",") if len(sys.argv) > 5 else None
for name, c in cases["cases"].items():
    if only and name not in only:
        continue
    for fmt in ("safetensors", "tfjs"):
        f = c["file"][fmt]
        if not f:
            continue
        what = f"{model}/{name} ({fmt}{', registry' if against else ''})"
        j, err = run(f, refs)
        why = []
        if j is None:
            why.append(err)
        else:
            v, r = j["verdict"], j["relation"]
            kind = c["relation"]
            src = os.environ.get("EXPECT_SOURCE")
            if src and (r["source"] != src or not j["warnings"]):
                why.append(f"relation from {r['source']}, expected {src} "
                           f"with warnings (the files are gone)")
            if v["relation"] != kind or r["kind"] != kind:
                why.append(f"relation {v['relation']}/{r['kind']}, "
                           f"expected {kind}")
            if c["related"]:
                want = ids[c["parents"][0]]
                if not v["match"]:
                    why.append("no match")
                elif kind != "merge" and (v["id"] != want or
                                          r["parent"] != want):
                    why.append(f"parent {v['id']}/{r['parent']}, "
                               f"expected {want}")
            elif v["match"] or v["id"] is not None or r["parent"] is not None:
                why.append(f"a parent ({v['id']}) for unrelated weights")
            if kind == "merge" and r["kind"] == "merge":
                got = {p["id"]: p["coef"] for p in r["merge"]["parents"]}
                want = {ids[p]: k for p, k in zip(c["parents"],
                                                  c["coefficients"])}
                if set(got) != set(want) or any(
                        abs(got[k] - want[k]) > 0.02 for k in want):
                    why.append(f"merge {got}, expected {want}")
                elif not r["merge"]["linear"]:
                    why.append("merge summing to 1 not reported linear")
            if kind == "renamed" and r["kind"] == "renamed":
                # the generator's rule, undone: 'renamed.' + name with '/'
                # as '.' + '.w'
                bad = [m for m in r["renames"]
                       if m["from"] != "renamed." + m["to"].replace("/", ".") + ".w"]
                if not r["renames"] or bad:
                    why.append(f"renames wrong: {bad[:2] or 'none'}")
            if kind == "permuted" and r["kind"] == "permuted":
                got = {t["name"] for t in r["tensors"]}
                if got != set(c["tensors"]):
                    why.append(f"permuted tensors {sorted(got)}, expected "
                               f"{c['tensors']}")
            # the structure is named when decided on the files (from the
            # sketches identify says "the structure needs the files")
            if name in ("prune24", "prune50") and r["kind"] == "prune" \
                    and r["source"] == "files":
                word = "2:4" if name == "prune24" else "unstructured"
                if word not in r["text"] + " " + r["evidence"]:
                    why.append(f"pruning structure '{word}' not named: "
                               f"{r['text']}")
        if why:
            fails += 1
            print(f"FAIL: identify {what}: {'; '.join(why)}")
            print(f"  reproduce: {mp} identify {f} --json "
                  + (f"--against {against}" if against else " ".join(refs)))
        else:
            print(f"ok: identify {what}: {c['relation']}")
sys.exit(1 if fails else 0)
PY

for m in liveness emotion gender; do
	[ -f "$T/$m/cases.json" ] || continue
	(cd "$T" && $PY check.py "$MP_BIN" "$m") || FAILS=$((FAILS + 1))
done

# The same cases against a registry (TF.js references registered, their
# `tensors` fingerprints stored by run --write-to-registry).
R="$T/reg"
if [ -f "$T/liveness/cases.json" ]; then
	for r in parent other1 other2; do
		"$MP_BIN" registry --registry "$R" add "$T/liveness/$r.tfjs" --id "live-$r" --name "$r" >/dev/null ||
			fail "registry add $r"
	done
	printf '{"models": ["live-parent", "live-other1", "live-other2"], "methods": ["tensors"], "metrics": ["cosine"]}' > "$T/cfg.json"
	"$MP_BIN" run --config "$T/cfg.json" --registry "$R" --global-registry "$R" \
		--write-to-registry --output-dir "$T/run" >/dev/null || fail "run --write-to-registry"
	printf '{"parent": "live-parent", "other1": "live-other1", "other2": "live-other2"}' > "$T/ids.json"
	(cd "$T" && $PY check.py "$MP_BIN" liveness "$R" ids.json \
		copy-of-it,f16,finetune,prune50,merge3,renamed,random) || FAILS=$((FAILS + 1))
fi

# A registry whose reference files are gone: every relation from the
# sketches alone, with a warning naming each missing file.
if [ -f "$T/liveness/cases.json" ]; then
	mkdir -p "$T/gone"
	for r in parent other1 other2; do
		cp -r "$T/liveness/$r.tfjs" "$T/gone/"
		"$MP_BIN" registry --registry "$T/reg2" add "$T/gone/$r.tfjs" --id "live-$r" \
			--fingerprint >/dev/null || fail "registry add --fingerprint $r"
	done
	rm -rf "$T/gone"
	(cd "$T" && EXPECT_SOURCE=sketches $PY check.py "$MP_BIN" liveness "$T/reg2" ids.json \
		copy-of-it,f16,bf16,int8,finetune,finetune-strong,prune50,prune24,merge2,merge3,renamed,permuted,random) ||
		FAILS=$((FAILS + 1))
fi

# Real pairs of the corpus. pair.py UNKNOWN KIND PARENT|- REF...: identify
# UNKNOWN against the REFs and expect relation KIND and parent PARENT (- for
# none). facts.py checks from the files the facts each expectation rests on.
cat > "$T/pair.py" <<'PY'
import json, subprocess, sys
mp, unknown, kind, parent, refs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
p = subprocess.run([mp, "identify", unknown, "--json"] + refs,
                   capture_output=True, text=True)
if p.returncode != 0:
    sys.exit(f"exit {p.returncode}: {p.stderr.strip().splitlines()[0] if p.stderr.strip() else ''}")
v = json.loads(p.stdout)["verdict"]
want_match = parent != "-"
if v["relation"] != kind or v["match"] != want_match or \
        (want_match and v["id"] != parent) or (not want_match and v["id"]):
    sys.exit(f"got {v['relation']} match {v['match']} id {v['id']}, expected "
             f"{kind} {parent}: {v['text']}")
PY
cat > "$T/facts.py" <<'PY'
import hashlib, os, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from lineage_cases import read_tfjs
H, F = sys.argv[2], sys.argv[3]
def shards(m):
    import json
    man = json.load(open(m))["weightsManifest"]
    h = hashlib.sha256()
    for g in man:
        for p in g["paths"]:
            h.update(open(os.path.join(os.path.dirname(m), p), "rb").read())
    return h.hexdigest()
def pearsons(a, b):
    A, B = dict(read_tfjs(a)), dict(read_tfjs(b))
    out = []
    for k in A:
        if k in B and A[k].shape == B[k].shape and A[k].dtype == np.float32 \
                and A[k].size > 1 and A[k].std() > 0 and B[k].std() > 0:
            out.append(np.corrcoef(A[k].ravel().astype(float),
                                   B[k].ravel().astype(float))[0, 1])
    return np.array(out), len(A), len(B), \
        sum(1 for k in A if k in B and A[k].shape == B[k].shape)
bad = []
if shards(H + "/blazeface.json") != shards(H + "/blazeface-back.json"):
    bad.append("blazeface and blazeface-back shards differ")
p, na, nb, common = pearsons(H + "/faceres.json", H + "/faceres-deep.json")
A, B = dict(read_tfjs(H + "/faceres.json")), dict(read_tfjs(H + "/faceres-deep.json"))
if any(A[k].dtype == np.float32 and A[k].size > 1 and np.array_equal(
        A[k], B[k].astype(np.float16).astype(np.float32)) for k in A):
    bad.append("faceres: a tensor equals faceres-deep's rounded to F16")
if not (na == nb == common == 128 and p.min() > 0.9 and np.median(p) > 0.99
        and (p < 0.9999).sum() > 10):
    bad.append(f"faceres/faceres-deep: {common} of {na}/{nb}, Pearson "
               f"{p.min()}..{np.median(p)}")
p, na, nb, common = pearsons(H + "/handlandmark-full.json",
                             H + "/handlandmark-sparse.json")
if not (common >= 0.85 * min(na, nb) and abs(np.median(p)) < 0.05):
    bad.append(f"handlandmark full/sparse: {common} of {na}/{nb}, "
               f"median Pearson {np.median(p)}")
p, na, nb, common = pearsons(H + "/movenet-lightning.json",
                             H + "/movenet-thunder.json")
if not common < 0.45 * min(na, nb):
    bad.append(f"movenet lightning/thunder share {common} of {na}/{nb}")
p, na, nb, common = pearsons(F + "/face_expression_model-weights_manifest.json",
                             F + "/face_landmark_68_model-weights_manifest.json")
if not (common >= 47 and p.min() > 0.8):
    bad.append(f"face_expression/face_landmark_68: {common}, min {p.min()}")
if bad:
    sys.exit("; ".join(bad))
PY
if (cd "$src/tests" && $PY "$T/facts.py" "$src/tests" "$models" "$faceapi"); then
	ok "corpus facts behind the real pairs hold"
else
	fail "corpus facts behind the real pairs"
fi
# blazeface.json and blazeface-back.json: the SHA-256 of their shards are
# equal (facts.py), so one is an exact copy of the other under a new name.
pair() { # DIR UNKNOWN KIND PARENT|- REF...
	d=$1; shift
	if out=$(cd "$d" && $PY "$T/pair.py" "$MP_BIN" "$@" 2>&1); then
		ok "identify $1: $2 ${3#-}"
	else
		u=$1; shift 3
		fail "identify $u against $*: $out"
		echo "  reproduce: cd $d && $MP_BIN identify $u --json $*"
	fi
}
pair "$models" blazeface.json copy blazeface-back.json blazeface-back.json blazeface-front.json
# faceres.json (weights stored float16) and faceres-deep.json (float32): the
# same 128 names and shapes, no tensor equal even after rounding to F16, but
# every Pearson above 0.9 and the median above 0.99: one is a fine-tune of
# the other (either way), not a conversion.
pair "$models" faceres.json finetune faceres-deep.json faceres-deep.json mobilefacenet.json
pair "$models" faceres-deep.json finetune faceres.json faceres.json mobilefacenet.json
# handlandmark-full and -sparse share 100 names and shapes of 103 and 112
# tensors, but their Pearson correlations centre on 0: the same
# architecture, unrelated weights.
pair "$models" handlandmark-sparse.json unrelated - handlandmark-full.json
# movenet-lightning and -thunder share fewer than half of their tensors'
# names and shapes (the thunder model is wider): no compatible reference.
pair "$models" movenet-thunder.json none - movenet-lightning.json
# face-api's expression and 68-point landmark models share 47 of their 49
# tensors, correlated at 0.8 to 0.98: two heads fine-tuned from one backbone.
pair "$faceapi" face_expression_model-weights_manifest.json finetune \
	face_landmark_68_model-weights_manifest.json \
	face_landmark_68_model-weights_manifest.json tiny_face_detector_model-weights_manifest.json
finish
