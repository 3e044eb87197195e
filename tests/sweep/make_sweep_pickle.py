#!/usr/bin/python3
"""Write the sweep-file fixtures of tests/sweep.sh and tests/check_sweep.c
once (committed; rerun with /usr/bin/python3, which has torch, from this
directory: `cd tests/sweep && /usr/bin/python3 make_sweep_pickle.py`).

One small sweep (P = 7, d = 2..6, seeded random float32 weights) in the
layouts the research code saves, and the same models as a manifest:
  sweep_zip.pt      torch.save (zip) of {"models_state": {d: state_dict},
                    "val_acc": {d: acc}, "P": 7}
  sweep_legacy.pt   torch.save in the legacy format, d as string keys
  sweep_plain.pkl   pickle.dump of {"models": [state_dict, ...],
                    "val_accs": [...], "dims": [...], "P": 7}, tensors
                    pickled by torch as storage._load_from_bytes
  sweep_nodims.pkl  as sweep_plain.pkl without "dims" (widths from the
                    projections' shapes)
  manifest.json     the same models as d<D>.pt state dicts
Bad input:
  evil.pkl          a sweep dict with an os.system call in it
  nomodels.pkl      {"P": 7, "val_acc": {...}} (no models)
  wrongp.pkl        sweep_plain.pkl's models with "P": 5
  dupd.pkl          two models with d = 3 (dims)
"""
import json
import os
import pickle

import torch

P = 7
DIMS = list(range(2, 7))
torch.manual_seed(12)


def accuracy(sd, d):
    """Fraction of inputs (a, b) whose first largest logit is (a+b) mod P,
    logits D((Lx)*(Rx)) with x = onehot(a) ++ onehot(b), in float64."""
    W = sd["bi_linear.weight"].double()
    L, R, D = W[:d], W[d:], sd["projection.weight"].double()
    good = 0
    for a in range(P):
        for b in range(P):
            x = torch.zeros(2 * P, dtype=torch.float64)
            x[a] = 1
            x[P + b] = 1
            good += int(torch.argmax(D @ ((L @ x) * (R @ x)))) == (a + b) % P
    return good / (P * P)


models = {}
acc = {}
for d in DIMS:
    models[d] = {
        "bi_linear.weight": torch.randn(2 * d, 2 * P, dtype=torch.float32),
        "projection.weight": torch.randn(P, d, dtype=torch.float32) / d,
    }
    acc[d] = accuracy(models[d], d)

torch.save({"models_state": models, "val_acc": acc, "P": P}, "sweep_zip.pt")
torch.save({"models_state": {str(d): models[d] for d in DIMS},
            "val_acc": {str(d): acc[d] for d in DIMS}, "P": P},
           "sweep_legacy.pt", _use_new_zipfile_serialization=False)

lst = [models[d] for d in DIMS]
with open("sweep_plain.pkl", "wb") as f:
    pickle.dump({"models": lst, "val_accs": [acc[d] for d in DIMS],
                 "dims": DIMS, "P": P}, f, protocol=4)
with open("sweep_nodims.pkl", "wb") as f:
    pickle.dump({"P": P, "models": lst}, f, protocol=2)

man = {"P": P, "name": "fixture", "models": []}
for d in DIMS:
    torch.save(models[d], "d%d.pt" % d)
    man["models"].append({"d": d, "file": "d%d.pt" % d, "val_acc": acc[d]})
with open("manifest.json", "w") as f:
    json.dump(man, f, indent=1)
    f.write("\n")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


with open("evil.pkl", "wb") as f:
    pickle.dump({"P": P, "models": lst[:1], "note": Evil()}, f, protocol=2)
with open("nomodels.pkl", "wb") as f:
    pickle.dump({"P": P, "val_acc": acc}, f, protocol=2)
with open("wrongp.pkl", "wb") as f:
    pickle.dump({"P": 5, "models": lst, "dims": DIMS}, f, protocol=2)
with open("dupd.pkl", "wb") as f:
    pickle.dump({"P": P, "models": lst[:2], "dims": [3, 3]}, f, protocol=2)
