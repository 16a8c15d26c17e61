"""compare_ckpt.py A.h5 B.h5 -- exit 0 when the training state of two dyolo
checkpoints is bit-identical (weights, BN buffers, EMA, optimizer state, step and
scaler attributes); prints what differs otherwise."""
import sys

import h5py
import numpy as np

ARRAYS = ["model.params", "model.buffers", "ema.params", "ema.buffers", "optim.momentum"]
ATTRS = ["step", "epoch", "position", "ni", "scaler_scale", "ema_updates", "optim_step"]


def main(a, b):
    bad = []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for name in ARRAYS:
            x, y = fa["arrays"][name][()], fb["arrays"][name][()]
            if x.shape != y.shape or not np.array_equal(x.view(np.uint32), y.view(np.uint32)):
                diff = np.max(np.abs(x - y)) if x.shape == y.shape else "shape"
                bad.append(f"{name} differs (max abs diff {diff})")
        for k in ATTRS:
            if fa.attrs[k] != fb.attrs[k]:
                bad.append(f"attribute {k}: {fa.attrs[k]} vs {fb.attrs[k]}")
    for line in bad:
        print("#", line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
