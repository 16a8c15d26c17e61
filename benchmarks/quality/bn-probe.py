#!/usr/bin/env python3
"""bn-probe.py DATASET_DIR CKPT... -- how far a model's BatchNorm running statistics
sit from the statistics its validation images produce, per checkpoint.

Loads each checkpoint's EMA weights into YOLOv5 v7.0's own yolov5n (a dyolo
checkpoint .h5, keep them all with `--set ckpt.keep=1000000`; or an Ultralytics
epoch .pt, `train.py --save-period 1`), runs DATASET_DIR's validation images
(ImageSets/Main/val.txt, JPEGImages/, square 320 px letterbox) in eval mode and
prints one line per checkpoint: for each BN layer the largest channel shift
|batch mean - running mean| / running sd (z) and batch var / running var; the
line gives the largest and median z over layers, the largest z of the first
layers (0-4), the largest and median variance ratio, and how many raw outputs
have objectness above 0.25.  A dyolo single-epoch mAP collapse on wbc-mixed showed
as a median z of 1.5-1.8 against 0.2-0.5 at good epochs (benchmarks/quality/notes.md).

Run with the harness's venv: PYTHONPATH=benchmarks/quality/ultra_stubs
YOLOV5_CONFIG_DIR=benchmarks/quality/.venv/yolov5-config benchmarks/quality/.venv/bin/python
(h5py: pip install h5py into it).
"""
import os.path as op
import sys

import cv2
import h5py
import numpy as np
import torch
import yolov5
from yolov5.models.yolo import Model
from yolov5.utils.augmentations import letterbox


def load(ck, cfg):
    if ck.endswith('.pt'):
        return torch.load(ck, map_location='cpu')['ema'].float().eval()
    h = h5py.File(ck, 'r')
    m = Model(cfg, nc=int(h.attrs['nc']), anchors=None).eval()
    sd = m.state_dict()
    for tab, arr in (('model.params', 'ema.params'), ('model.buffers', 'ema.buffers')):
        a = h['arrays'][arr][()]
        for name, off, cnt, _ in h['tables'][tab][()]:
            k = name.decode()
            sd[k] = torch.from_numpy(a[off:off + cnt].copy()).view(sd[k].shape)
    m.load_state_dict(sd)
    return m


def probe(m, x):
    stats = {}

    def hook(mod, inp, name):
        y = inp[0].transpose(0, 1).reshape(inp[0].shape[1], -1)
        sd = (mod.running_var + mod.eps).sqrt()
        z = ((y.mean(1) - mod.running_mean).abs() / sd).max().item()
        stats[name] = (z, (y.var(1) / (mod.running_var + mod.eps)).max().item())
    hs = [mod.register_forward_hook(lambda mo, i, o, n=n: hook(mo, i, n))
          for n, mod in m.named_modules() if isinstance(mod, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        conf = m(x)[0][..., 4]
    for h in hs:
        h.remove()
    z = sorted(v[0] for v in stats.values())
    r = sorted(v[1] for v in stats.values())
    early = max(v[0] for k, v in stats.items() if k.split('.')[1] in ('0', '1', '2', '3', '4'))
    return z[-1], z[len(z) // 2], early, r[-1], r[len(r) // 2], int((conf > 0.25).sum())


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ds, cks = sys.argv[1], sys.argv[2:]
    ids = open(op.join(ds, 'ImageSets/Main/val.txt')).read().split()
    ims = []
    for i in ids:
        im = cv2.imread(op.join(ds, 'JPEGImages', i + '.jpg'))
        if im is None:
            sys.exit('bn-probe: cannot read %s' % op.join(ds, 'JPEGImages', i + '.jpg'))
        ims.append(letterbox(im, 320, auto=False)[0][:, :, ::-1].transpose(2, 0, 1).copy())
    x = torch.from_numpy(np.stack(ims)).float() / 255
    cfg = op.join(op.dirname(yolov5.__file__), 'models', 'yolov5n.yaml')
    torch.set_num_threads(1)
    for ck in cks:
        m = load(ck, cfg)
        print('%s  max z %.2f  median z %.2f  layers 0-4 z %.2f  max var ratio %.2f  median %.2f  obj>0.25 %d'
              % ((ck,) + probe(m, x)), flush=True)


if __name__ == '__main__':
    main()
