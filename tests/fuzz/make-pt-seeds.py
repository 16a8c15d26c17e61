#!/usr/bin/env python3
"""make-pt-seeds.py -- write the seed corpora of fuzz_pickle and fuzz_pt.

Needs the committed .pt fixtures (tests/io/fixtures/, made by tests/io/make_pt_fixtures.py)
and, for the two small archives, PyTorch (Debian's python3-torch is enough):
    /work/ptenv/bin/python tests/fuzz/make-pt-seeds.py
Not run by CI; the seeds are committed.

corpus/fuzz_pickle/ and corpus/fuzz_pt/ both get the data.pkl of tiny-last.pt (a
train.py last.pt: model and ema objects, model.yaml, numpy best_fitness) and of
tiny-state_dict.pt (an OrderedDict of tensors), and a small state_dict pickle with an
f16 view at an offset and a shared storage; corpus/fuzz_pt/ also gets that small
state_dict as a whole .pt archive (zip), which fuzz_pt reads as it is.
"""
import collections
import io
import os
import sys
import zipfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
fix = os.path.join(root, "tests", "io", "fixtures")
out_pk = os.path.join(root, "tests", "fuzz", "corpus", "fuzz_pickle")
out_pt = os.path.join(root, "tests", "fuzz", "corpus", "fuzz_pt")
os.makedirs(out_pk, exist_ok=True)
os.makedirs(out_pt, exist_ok=True)


def put(name, data, dirs):
    for d in dirs:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


for stem in ("tiny-last", "tiny-state_dict"):
    with zipfile.ZipFile(os.path.join(fix, stem + ".pt")) as z:
        put(stem + ".pkl", z.read(stem + "/data.pkl"), (out_pk, out_pt))

try:
    import torch
except ImportError:
    sys.exit("make-pt-seeds: no torch: the two small seeds were not written")
base = torch.arange(12, dtype=torch.float32)
sd = collections.OrderedDict()
sd["model.0.conv.weight"] = base[2:8].view(2, 3, 1, 1)           # offset 2 into a shared storage
sd["model.0.bn.weight"] = base[:2]                               # the same storage again
sd["model.0.bn.running_mean"] = torch.zeros(2, dtype=torch.float16)
sd["model.0.bn.num_batches_tracked"] = torch.tensor(7)
sd["model.0.bn.running_var"] = torch.ones(3, 2, dtype=torch.float64).t()  # non-contiguous strides
buf = io.BytesIO()
torch.save(sd, buf)
put("small-state_dict.pt", buf.getvalue(), (out_pt,))
with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
    pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
    put("small-state_dict.pkl", z.read(pkl), (out_pk, out_pt))
print("make-pt-seeds: wrote", sorted(os.listdir(out_pk)), sorted(os.listdir(out_pt)))
