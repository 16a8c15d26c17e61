"""torchvision.transforms.functional stub."""
from .._never import never


def __getattr__(_name):
    return never
