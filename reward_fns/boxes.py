"""Bounding boxes from untrusted text, in the coordinate conventions grounding tasks use; nothing here raises.

Conventions (``box_format``): ``norm1`` — x1, y1, x2, y2 in [0, 1] (LLaVA / CoIN RefCOCO answers); ``norm1000`` —
integers in [0, 1000) (Qwen-VL, Qwen2-VL ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>``); ``pixel`` — absolute pixels of
the image the model saw (Qwen2.5-VL ``{"bbox_2d": [...]}``; needs the image size).
"""

from __future__ import annotations

import math
import re


BOX_FORMATS = ("norm1", "norm1000", "pixel")
MAX_TEXT = 4096  # answer spans are short; longer text is not searched further (keeps parsing linear and cheap)
_NUM = r"(?<![\d.])[-+]?\d++(?:\.\d++)?(?:[eE][-+]?\d++)?"
_SEP = r"[\s,;()\[\]]++"
_FOUR = re.compile(rf"({_NUM}){_SEP}({_NUM}){_SEP}({_NUM}){_SEP}({_NUM})")
_ANCHORS = ("bbox_2d", "<|box_start|>", "<box>", "bbox")

Box = tuple[float, float, float, float]


def parse_box(text) -> Box | None:
    """The first four numbers that spell a box (``[x1, y1, x2, y2]``, ``(x1,y1),(x2,y2)``, ``x1 y1 x2 y2``, after a
    ``bbox_2d`` key or a ``<|box_start|>`` tag when present), or None. Accepts a list of four numbers too.

    >>> parse_box('[{"bbox_2d": [10, 20, 110, 220], "label": "dog"}]')
    (10.0, 20.0, 110.0, 220.0)
    >>> parse_box("<|box_start|>(1,2),(3,4)<|box_end|>")
    (1.0, 2.0, 3.0, 4.0)
    >>> parse_box("the dog at [0.1, 0.2, 0.5, 0.9]"), parse_box("[1, 2, x, 4]"), parse_box("[1e999, 0, 1, 1]")
    ((0.1, 0.2, 0.5, 0.9), None, None)
    """
    if isinstance(text, (list, tuple)):
        text = ", ".join(str(v) for v in text)
    if not isinstance(text, str):
        return None
    text = text[:MAX_TEXT]
    for anchor in _ANCHORS:
        at = text.find(anchor)
        if at >= 0:
            text = text[at + len(anchor):]
            break
    found = _FOUR.search(text)
    if not found:
        return None
    try:
        box = tuple(float(v) for v in found.groups())
    except (ValueError, OverflowError):
        return None
    return box if all(math.isfinite(v) for v in box) else None


def to_unit_box(box: Box | None, box_format: str = "norm1", image_size=None) -> Box | None:
    """``box`` in [0, 1] image coordinates: corners ordered, clipped to the image; None when it cannot be placed.

    >>> to_unit_box((500, 0, 250, 1000), "norm1000"), to_unit_box((32, 16, 64, 48), "pixel", (64, 64))
    ((0.25, 0.0, 0.5, 1.0), (0.5, 0.25, 1.0, 0.75))
    """
    if box is None:
        return None
    if box_format == "norm1":
        scale = (1.0, 1.0)
    elif box_format == "norm1000":
        scale = (1000.0, 1000.0)
    elif box_format == "pixel":
        try:
            scale = (float(image_size[0]), float(image_size[1]))
        except (TypeError, ValueError, IndexError):
            return None
        if not (scale[0] > 0 and scale[1] > 0 and all(math.isfinite(s) for s in scale)):
            return None
    else:
        raise ValueError(f"box_format must be one of {BOX_FORMATS}, got {box_format!r}.")
    x1, y1, x2, y2 = box[0] / scale[0], box[1] / scale[1], box[2] / scale[0], box[3] / scale[1]

    def clip(v: float) -> float:
        return min(max(v, 0.0), 1.0)

    return clip(min(x1, x2)), clip(min(y1, y2)), clip(max(x1, x2)), clip(max(y1, y2))


def box_iou(a: Box | None, b: Box | None) -> float:
    """Intersection over union of two ordered boxes; 0 for a missing or empty box.

    >>> box_iou((0, 0, 2, 2), (1, 1, 3, 3)), box_iou((0, 0, 1, 1), (0, 0, 1, 1)), box_iou((0, 0, 0, 1), (0, 0, 0, 1))
    (0.14285714285714285, 1.0, 0.0)
    """
    if a is None or b is None:
        return 0.0
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(iw, 0.0) * max(ih, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
