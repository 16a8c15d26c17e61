"""torchvision.transforms stub: the classification transforms YOLOv5 builds on demand."""
from . import functional  # noqa: F401
from .._never import Never


def __getattr__(_name):  # T.Compose, T.ToTensor, ... exist but cannot be used
    return Never
