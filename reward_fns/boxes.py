"""Bounding boxes from untrusted text, the coordinate frames grounding tasks use, and their IoU; nothing here raises.

Frames (``box_format``): ``norm1`` — x1, y1, x2, y2 in [0, 1] of the image (LLaVA / CoIN RefCOCO answers);
``norm1000`` — [0, 1000) of the image (Qwen-VL, Qwen2-VL ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>``); ``pixel`` —
absolute pixels of the image the model saw (Qwen2.5-VL ``{"bbox_2d": [...]}``; needs that image's size).

The frame rule: two boxes written in the same frame (including "no frame given") are compared as written; only
boxes declared in different frames are mapped to [0, 1] image coordinates first. IoU is unchanged by scaling each
axis, so this is the IoU of the two regions whichever frame it is computed in. Nothing is clipped to the image
(see ``to_unit_box``).

Parsing is hand-written (no kept library reads the box spellings VLMs emit); every regex below is linear-time:
possessive quantifiers, bounded gaps, no nested unbounded repetition, on at most ``MAX_TEXT`` characters.
"""

from __future__ import annotations

import re
from numbers import Real


BOX_FORMATS = ("norm1", "norm1000", "pixel")
MAX_TEXT = 4096  # answer spans are short; longer text is not searched further (keeps parsing cheap)
# No image a VLM sees has a side near 10^6 px (Qwen2.5-VL's default max_pixels is 12.8 MP), so a coordinate beyond it
# is garbage; the bound also keeps every area below 4e12, far from float overflow.
MAX_COORD = 1e6

Box = tuple[float, float, float, float]

# A number token that is not part of a word or a longer number: `x1`, `bbox_2d`, `2d`, `v1.2.3` give none.
_NUM = r"(?<![\w.+-])[-+]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][-+]?\d++)?(?![\w.])"
_COMMA = r"(?:\s*+[,;]\s*+|\s++)"
# Four numbers in one bracket, `[x1, y1, x2, y2]` / `(x1 y1 x2 y2)`, or two corner pairs `(x1,y1),(x2,y2)`,
# `[[x1, y1], [x2, y2]]`, `(x1, y1) to (x2, y2)` (at most 32 characters of non-digit text between the pairs).
_PAIR_GAP = r"\s*+[\])][^\d()\[\]<>]{0,32}+[\[(]\s*+"
_BRACKETED = re.compile(rf"[\[(]\s*+({_NUM}){_COMMA}({_NUM})(?:{_PAIR_GAP}|{_COMMA})({_NUM}){_COMMA}({_NUM})\s*+[\])]",
                        re.ASCII)
# Corner keys: `"x1": 10`, `x_min=10`, `'left': 10`, in any order.
_KEY = re.compile(rf"(?<!\w)[\"']?(x1|y1|x2|y2|x_?min|y_?min|x_?max|y_?max|left|top|right|bottom)[\"']?\s*+[:=]\s*+"
                  rf"({_NUM})", re.ASCII | re.IGNORECASE)
_CORNER = {"x1": 0, "xmin": 0, "x_min": 0, "left": 0, "y1": 1, "ymin": 1, "y_min": 1, "top": 1,
           "x2": 2, "xmax": 2, "x_max": 2, "right": 2, "y2": 3, "ymax": 3, "y_max": 3, "bottom": 3}
# A run of numbers with only separators between them (`x1 y1 x2 y2`, `10, 20, 110, 220`); a box when exactly four.
_RUN = re.compile(rf"{_NUM}(?:[\s,;()\[\]]++{_NUM})*+", re.ASCII)
_NUMBER = re.compile(_NUM, re.ASCII)
# A box tag or key: a bracketed box right after one is taken first (so digits and boxes in a label before it, or a
# "bbox" in prose, are never read); else what follows the first one is searched before the whole text.
_ANCHOR = re.compile(r"<\|box_start\|>|<box>|bbox")
_ANCHORED = re.compile(rf"(?:<\|box_start\|>|<box>|bbox\w{{0,8}}+[\"']?\s*+[:=]?\s*+){_BRACKETED.pattern}", re.ASCII)


def _coordinate(value) -> float | None:
    """A finite coordinate within ``MAX_COORD`` from a number or a numeric string, else None."""
    if type(value) is not float and type(value) is not int:  # the common cases skip the slow ABC check
        if isinstance(value, str):
            value = value.strip()
            if not _NUMBER.fullmatch(value):
                return None
        elif isinstance(value, bool) or not isinstance(value, Real):
            return None
    try:
        v = float(value)
    except (ValueError, OverflowError):
        return None
    return v if -MAX_COORD <= v <= MAX_COORD else None  # also False for nan and ±inf


def _box(values) -> Box | None:
    x1, y1, x2, y2 = (_coordinate(v) for v in values)
    return None if x1 is None or y1 is None or x2 is None or y2 is None else (x1, y1, x2, y2)


def _tokens_box(tokens) -> Box | None:
    """``_box`` for four strings the number regex matched (the fast path: no re-validation)."""
    try:
        x1, y1, x2, y2 = float(tokens[0]), float(tokens[1]), float(tokens[2]), float(tokens[3])
    except (ValueError, OverflowError):
        return None
    if -MAX_COORD <= min(x1, y1, x2, y2) and max(x1, y1, x2, y2) <= MAX_COORD:
        return x1, y1, x2, y2
    return None


def _keyed(text: str, before: int) -> Box | None:
    """The box that corner keys starting before ``before`` spell (first value of each corner wins)."""
    values: list[str | None] = [None] * 4
    for i, found in enumerate(_KEY.finditer(text)):
        if i == 0 and found.start() >= before:
            return None
        slot = _CORNER[found.group(1).lower()]
        if values[slot] is None:
            values[slot] = found.group(2)
            if None not in values:
                return _tokens_box(values)
    return None


def _from_text(text: str) -> Box | None:
    bracketed = _BRACKETED.search(text)
    if ":" in text or "=" in text:
        keyed = _keyed(text, bracketed.start() if bracketed else len(text))
        if keyed is not None:
            return keyed
    if bracketed:
        return _tokens_box(bracketed.groups())
    for run in _RUN.finditer(text):
        numbers = _NUMBER.findall(run.group())
        if len(numbers) == 4:
            return _tokens_box(numbers)
    return None


def parse_box(value) -> Box | None:
    """The first box ``value`` spells, as written (x1, y1, x2, y2), or None; never raises.

    Text: ``[x1, y1, x2, y2]``, ``(x1,y1),(x2,y2)``, Qwen-VL ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>``, Qwen2.5-VL
    ``[{"bbox_2d": [...], "label": "dog 2"}]``, corner keys (``{"x1": .., "y1": .., "x2": .., "y2": ..}``, ``xmin``…,
    ``left``/``top``/``right``/``bottom``), or four bare numbers ``x1 y1 x2 y2`` — inside a sentence or not. After a
    ``bbox`` key or box tag, only what follows it is read first. Digits inside words and keys (``bbox_2d``, ``x1``,
    ``v1.2``) are never coordinates; a bare run of other than four numbers is no box. Also accepted: a sequence of
    four numbers (or numeric strings) or of two corner pairs, and other objects through their ``repr``.
    Non-finite values or ones beyond ``MAX_COORD`` give None.

    >>> parse_box('[{"bbox_2d": [10, 20, 110, 220], "label": "dog 2"}]')
    (10.0, 20.0, 110.0, 220.0)
    >>> parse_box("<|box_start|>(1,2),(3,4)<|box_end|>"), parse_box('object 1 at {"x2": 3, "y2": 4, "x1": 1, "y1": 2}')
    ((1.0, 2.0, 3.0, 4.0), (1.0, 2.0, 3.0, 4.0))
    >>> parse_box("the dog at [0.1, 0.2, 0.5, 0.9]."), parse_box("[1, 2, x, 4]"), parse_box("[1e999, 0, 1, 1]")
    ((0.1, 0.2, 0.5, 0.9), None, None)
    """
    if isinstance(value, str):
        return _from_answer(value)
    if not isinstance(value, (list, tuple, dict)) and hasattr(value, "tolist"):  # numpy / torch arrays
        try:
            value = value.tolist()
        except Exception:  # noqa: BLE001 — an object whose tolist fails holds no box
            return None
    if isinstance(value, (list, tuple)):
        flat = value if len(value) == 4 else None
        if len(value) == 2 and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
            flat = (*value[0], *value[1])
        box = _box(flat) if flat is not None else None
        if box is not None or (flat is not None and all(isinstance(v, (Real, str)) for v in flat)):
            return box  # four scalars: a box or, when one is not a coordinate, none
    if isinstance(value, (list, tuple, dict)):
        try:
            value = repr(value)[:MAX_TEXT]  # e.g. a parsed Qwen2.5-VL JSON answer
        except (RecursionError, ValueError):
            return None
    return _from_answer(value) if isinstance(value, str) else None


def _from_answer(text: str) -> Box | None:
    text = text[:MAX_TEXT].replace("\u2212", "-")  # U+2212 minus sign, as some tokenizers decode it
    if "box" in text:
        anchored = _ANCHORED.search(text)
        if anchored:
            return _tokens_box(anchored.groups())
        anchor = _ANCHOR.search(text)
        if anchor:
            box = _from_text(text[anchor.end():])
            if box is not None:
                return box
    return _from_text(text)


def check_box_format(value, name: str = "box_format") -> None:
    """``ValueError`` unless ``value`` is None (no frame given) or one of ``BOX_FORMATS``."""
    if value is not None and value not in BOX_FORMATS:
        raise ValueError(f"{name} must be one of {BOX_FORMATS} (or unset: boxes compared as written), got {value!r}.")


def image_size_of(value) -> tuple[float, float] | None:
    """``(width, height)`` when ``value`` is two numbers in [1, ``MAX_COORD``] (pixels), else None."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    w, h = _coordinate(value[0]), _coordinate(value[1])
    return (w, h) if w is not None and h is not None and w >= 1 and h >= 1 else None


def to_unit_box(box: Box | None, box_format: str, image_size=None) -> Box | None:
    """``box`` in [0, 1] image coordinates, corners ordered; None when it cannot be placed (``pixel`` without a
    valid image size).

    Not clipped to the image, deliberately: clipping would make a score depend on how the ground truth happens to be
    stored (a box spilling off the image would score higher against a ``norm1`` truth than against the same truth in
    pixels, compared unconverted), and it would stop penalising the off-image part of a prediction.

    >>> to_unit_box((500, 0, 250, 1000), "norm1000"), to_unit_box((32, 16, 64, 48), "pixel", (64, 64))
    ((0.25, 0.0, 0.5, 1.0), (0.5, 0.25, 1.0, 0.75))
    >>> to_unit_box((-32, 0, 96, 64), "pixel", (64, 64)), to_unit_box((0, 0, 1, 1), "pixel", None)
    ((-0.5, 0.0, 1.5, 1.0), None)
    """
    check_box_format(box_format)
    if box is None:
        return None
    if box_format == "pixel":
        size = image_size_of(image_size)
        if size is None:
            return None
        sx, sy = size
    else:
        sx = sy = 1.0 if box_format == "norm1" else 1000.0
    x1, y1, x2, y2 = box[0] / sx, box[1] / sy, box[2] / sx, box[3] / sy
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def box_iou(a: Box | None, b: Box | None) -> float:
    """Intersection over union of two boxes (corners in either order) in one frame; 0 for a missing or zero-area box.

    >>> box_iou((0, 0, 2, 2), (1, 1, 3, 3)), box_iou((0, 0, 1, 1), (1, 1, 0, 0)), box_iou((0, 0, 0, 1), (0, 0, 0, 1))
    (0.14285714285714285, 1.0, 0.0)
    """
    if a is None or b is None:
        return 0.0
    ax1, ax2 = (a[0], a[2]) if a[0] <= a[2] else (a[2], a[0])
    ay1, ay2 = (a[1], a[3]) if a[1] <= a[3] else (a[3], a[1])
    bx1, bx2 = (b[0], b[2]) if b[0] <= b[2] else (b[2], b[0])
    by1, by2 = (b[1], b[3]) if b[1] <= b[3] else (b[3], b[1])
    area_a, area_b = (ax2 - ax1) * (ay2 - ay1), (bx2 - bx1) * (by2 - by1)
    if not (area_a > 0 and area_b > 0):  # a zero-area box covers nothing (and nan compares False)
        return 0.0
    # Rounding is monotone, so inter ≤ min(area_a, area_b) in floats too and the union is > 0.
    inter = max(min(ax2, bx2) - max(ax1, bx1), 0.0) * max(min(ay2, by2) - max(ay1, by1), 0.0)
    value = inter / (area_a + area_b - inter)
    return value if 0.0 <= value <= 1.0 else 1.0 if value > 1.0 else 0.0  # rounding; nan (inf inputs) → 0


def frame_iou(predicted: Box | None, expected: Box | None, box_format: str | None = None,
              answer_box_format: str | None = None, image_size=None) -> float:
    """IoU of a predicted box written in ``box_format`` with a ground truth stored in ``answer_box_format``.

    A side left unset is in the other side's frame; two boxes in the same frame are compared as written (no image
    size needed, even for ``pixel``); boxes in different frames are mapped to [0, 1] image coordinates first.

    >>> frame_iou((10, 20, 110, 220), (10, 20, 110, 220)), frame_iou((0, 0, 1, 1), (0, 0, 1, 1), "pixel")
    (1.0, 1.0)
    >>> frame_iou((0, 0, 500, 1000), (0, 0, 1, 1), "norm1000", "norm1")
    0.5
    """
    box_format, answer_box_format = box_format or answer_box_format, answer_box_format or box_format
    if box_format != answer_box_format:
        predicted = to_unit_box(predicted, box_format, image_size)
        expected = to_unit_box(expected, answer_box_format, image_size)
    return box_iou(predicted, expected)
