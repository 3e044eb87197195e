#!/usr/bin/python3
"""bench/sparsity_gen.py OUT: an 11008 x 4096 float16 matrix (the MLP
down-projection of a 7B model) of normal values with 50 % unstructured
zeros (each weight zero with probability 1/2, seed 7), saved as OUT.npy
(numpy) and OUT.pt (torch.save of the same values)."""
import sys

import numpy as np
import torch

rng = np.random.default_rng(7)
w = rng.standard_normal((11008, 4096), dtype=np.float32).astype(np.float16)
w[w == 0] = np.float16(1.0)  # only the drawn zeros are zero
w[rng.random(w.shape) < 0.5] = 0
np.save(sys.argv[1] + ".npy", w)
torch.save(torch.from_numpy(w), sys.argv[1] + ".pt")
