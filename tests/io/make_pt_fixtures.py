#!/usr/bin/env python3
"""make_pt_fixtures.py -- build the committed YOLOv5 .pt fixtures of tests/io/pt_import.sh
with the real YOLOv5 v7.0 code (the `yolov5==7.0.14` PyPI package) and PyTorch, and the
outputs of YOLOv5's own eval-mode forward on fixed images that dyolo must reproduce.

Not run by CI (it has no torch): run it by hand after changing what the fixtures hold.
    apt-get install -y python3-torch
    /usr/bin/python3 -m venv --system-site-packages /work/ptenv
    /work/ptenv/bin/pip install yolov5==7.0.14 --no-deps
    /work/ptenv/bin/python tests/io/make_pt_fixtures.py tests/io/fixtures

Writes (OUT/):
  yolov5n-best.pt     yolov5n, nc 3, as train.py + strip_optimizer leave best.pt: the EMA
                      weights in 'model' (fp16), 'ema' None, names {0: 'red', ...}
  tiny-last.pt        a tiny yolov5 (width 1/16) as train.py saves last.pt mid-run:
                      'model' and 'ema' (different weights, fp16), numpy best_fitness,
                      anchors 1.25x the spec's (as after autoanchor)
  tiny-state_dict.pt  a plain state_dict (OrderedDict of fp32 tensors) of tiny-last's EMA
  tiny.json           the tiny model's dyolo spec (for `dyolo import --model`)
  *.out.bin           YOLOv5's eval forward of the weights dyolo must pick, float32 LE
                      [2][anchors][5 + nc] on the images of `images()` (64x64, batch 2)

The package's own imports drag in OpenCV, pandas, matplotlib... which the model code does
not use: they are stubbed.  The classes are re-homed to `models.yolo` / `models.common`,
the names a checkpoint from the YOLOv5 git repository's train.py carries.
"""
import collections
import copy
import json
import os
import sys
import types

import numpy as np
import torch

STUBS = ('cv2', 'pandas', 'matplotlib', 'seaborn', 'torchvision', 'thop', 'tqdm', 'ultralytics',
         'huggingface_hub', 'sahi', 'IPython', 'albumentations', 'fire', 'boto3', 'roboflow')


class _Any:
    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        return _Any()

    def __getattr__(self, name):
        return _Any()

    def __mro_entries__(self, bases):  # a stubbed class used as a base class
        return (object,)


def _stub_attr(attr):
    if attr.startswith('__'):
        raise AttributeError(attr)
    return _Any()


class _StubFinder:
    """Imports of STUBS packages (and their submodules) yield empty modules."""

    def find_spec(self, name, path=None, target=None):
        import importlib.machinery
        if name.split('.')[0] in STUBS:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        m = types.ModuleType(spec.name)
        m.__getattr__ = _stub_attr
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


def stub_modules():
    sys.meta_path.insert(0, _StubFinder())


def images(batch=2, size=64):
    """Deterministic uint8 NCHW images; tests/io/test_pt_forward.c makes the same."""
    b, c, y, x = np.meshgrid(np.arange(batch), np.arange(3), np.arange(size), np.arange(size), indexing='ij')
    return ((x * 7 + y * 13 + c * 29 + b * 53 + (x * y) % 17) % 256).astype(np.uint8)


def randomize(model, seed):
    """Random weights and BN statistics, so that a wrong mapping shows in the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / p[0].numel()) ** 0.5)
            elif name.endswith('bn.weight'):
                p.copy_(0.5 + torch.rand(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
        for name, b in model.named_buffers():
            if name.endswith('running_mean'):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith('running_var'):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))


def forward(model, out_path):
    """YOLOv5's eval-mode forward in fp32 of the fp16-rounded weights that the file holds."""
    m = copy.deepcopy(model).float().eval()
    im = torch.from_numpy(images()).float() / 255
    with torch.no_grad():
        y = m(im)[0]
    y.numpy().astype('<f4').tofile(out_path)
    return tuple(y.shape)


def main(out):
    stub_modules()
    import yolov5
    pkg = os.path.dirname(yolov5.__file__)
    sys.path.insert(0, pkg)
    import yolov5.models.common as common
    import yolov5.models.yolo as yolo
    # Pickle writes cls.__module__; a checkpoint of the git repo's train.py says models.yolo.
    sys.modules['models.yolo'], sys.modules['models.common'] = yolo, common
    for mod, new in ((yolo, 'models.yolo'), (common, 'models.common')):
        for v in vars(mod).values():
            if isinstance(v, type) and v.__module__ == mod.__name__:
                v.__module__ = new
    import yaml
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    names = {0: 'red', 1: 'green', 2: 'blue'}
    hyp = {'lr0': 0.01, 'momentum': 0.937, 'box': 0.05, 'cls': 0.5, 'obj': 1.0, 'anchor_t': 4.0}

    def build(cfg, seed, anchor_gain=1.0):
        m = yolo.DetectionModel(cfg, ch=3, nc=3)
        randomize(m, seed)
        with torch.no_grad():  # as train.py's autoanchor would: not the spec's anchors any more
            m.model[-1].anchors *= anchor_gain
        m.nc, m.hyp, m.names = 3, hyp, names  # train.py attaches these
        m.class_weights = torch.tensor([0.5, 1.0, 1.5]) * 3
        return m

    n_cfg = os.path.join(pkg, 'models', 'yolov5n.yaml')
    # best.pt after strip_optimizer: the EMA weights as 'model', fp16, requires_grad False.
    best = build(n_cfg, 1).half()
    for p in best.parameters():
        p.requires_grad = False
    ckpt = {'epoch': -1, 'best_fitness': None, 'model': best, 'ema': None, 'updates': None, 'optimizer': None,
            'opt': {'imgsz': 64, 'epochs': 3, 'batch_size': 16, 'data': 'data/rgb.yaml', 'hyp': hyp},
            'git': None, 'date': '2024-01-01T00:00:00'}
    torch.save(ckpt, os.path.join(out, 'yolov5n-best.pt'))
    print('yolov5n-best.pt', forward(best, os.path.join(out, 'yolov5n-best.out.bin')))

    # A tiny model of the same structure, mid-run last.pt: model and ema differ.
    with open(n_cfg) as f:
        tiny_cfg = yaml.safe_load(f)
    tiny_cfg['width_multiple'] = 0.0625
    model, ema = build(copy.deepcopy(tiny_cfg), 2, 1.25), build(copy.deepcopy(tiny_cfg), 3, 1.25).eval()
    ckpt = {'epoch': 1, 'best_fitness': np.array([0.0123]), 'model': copy.deepcopy(model).half(),
            'ema': copy.deepcopy(ema).half(), 'updates': 42, 'optimizer': None,
            'opt': {'imgsz': 64, 'epochs': 3}, 'date': '2024-01-01T00:00:00', 'yolov5pip_version': '7.0.14'}
    torch.save(ckpt, os.path.join(out, 'tiny-last.pt'))
    print('tiny-last.pt', forward(ckpt['ema'], os.path.join(out, 'tiny-last.out.bin')))

    # A plain state_dict (fp32) of the tiny EMA model.
    sd = ema.float().state_dict()
    assert isinstance(sd, collections.OrderedDict)
    torch.save(sd, os.path.join(out, 'tiny-state_dict.pt'))
    print('tiny-state_dict.pt', forward(ema, os.path.join(out, 'tiny-state_dict.out.bin')))

    spec = {k: tiny_cfg[k] for k in ('nc', 'depth_multiple', 'width_multiple', 'anchors', 'backbone', 'head')}
    spec['comment'] = 'tests/io/make_pt_fixtures.py: yolov5n with width_multiple 1/16'
    spec['nc'] = 3
    with open(os.path.join(out, 'tiny.json'), 'w') as f:
        json.dump(spec, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'tests/io/fixtures')
