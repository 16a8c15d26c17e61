"""torchvision.ops stub: nms is only used by validation."""
from ._never import never as nms  # noqa: F401
from ._never import never as box_iou  # noqa: F401
