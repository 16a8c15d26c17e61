"""torchvision.datasets stub: YOLOv5 subclasses ImageFolder at import time."""
from ._never import Never as ImageFolder  # noqa: F401
