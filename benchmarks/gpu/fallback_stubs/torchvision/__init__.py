"""Import stub of torchvision for ultra_step_gpu.py (see ../README.md): only what
YOLOv5 v7.0 touches at import time; anything called raises."""
from . import datasets, ops, transforms  # noqa: F401

__version__ = "0.0.0+import-stub"
