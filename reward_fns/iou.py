"""Grounding rewards: IoU of the predicted box with the ground truth (training), IoU ≥ 0.5 accuracy (evaluation).

Frames follow ``reward_fns.boxes``: with no ``box_format`` / ``answer_box_format`` both boxes are compared as
written; a format given for one side only puts the other side in the same frame; two different formats are
converted (``pixel`` then needs the image size, from ``image_size`` or the row's image; without one the row scores 0).
"""

from __future__ import annotations

from numbers import Real

from reward_fns.boxes import check_box_format, frame_iou, image_size_of, parse_box
from reward_fns.parsing import answer_span
from reward_fns.registry import register_reward


def _per_sample(value, n: int) -> list:
    """A reward argument given either once (recipe parameter) or per sample (dataset column)."""
    if isinstance(value, (list, tuple)) and len(value) == n and not _is_size(value):
        return list(value)
    return [value] * n


def _is_size(value) -> bool:
    return len(value) == 2 and all(isinstance(v, (int, float)) for v in value)


def _image_size(image_size, image):
    """The size given for the row, else its image's (the first one of a list: the grounded image)."""
    if image_size is not None:
        return image_size
    if isinstance(image, list) and image:
        image = image[0]
    return getattr(image, "size", None)


def box_ious(completions: list, answer: list, box_format=None, answer_box_format=None, image_size=None,
             image=None, images=None) -> list[float]:
    """IoU per completion of its ``<answer>`` box with the row's ground-truth box, in the frames declared.

    ``box_format`` is how the model writes boxes and ``answer_box_format`` how ``answer`` is stored (see
    ``reward_fns.boxes``); ``image_size`` ([w, h]) or else the row's image sizes ``pixel`` boxes when they must be
    converted. It must be the size of the image the model saw: Qwen2.5-VL writes pixels of the processor's resized
    image (sides rounded to multiples of 28 within ``min_pixels`` / ``max_pixels``), which is the file's size only
    when no resizing happened. Each may be a recipe parameter or a dataset column. An unknown format raises
    ``ValueError`` (a configuration error, not model output); anything the model writes scores in [0, 1].
    """
    n = len(completions)
    formats, truth_formats = _per_sample(box_format, n), _per_sample(answer_box_format, n)
    for fmt, truth_fmt in zip(formats, truth_formats, strict=True):
        check_box_format(fmt, "box_format")
        check_box_format(truth_fmt, "answer_box_format")
    sizes = _per_sample(image_size, n)
    pictures = _per_sample(image if image is not None else images, n)
    scores = []
    for i, (completion, truth) in enumerate(zip(completions, answer, strict=True)):
        fmt, truth_fmt = formats[i], truth_formats[i]
        # The size is looked up only where a pixel box is converted; same-frame rows never need one.
        size = _image_size(sizes[i], pictures[i]) if "pixel" in (fmt, truth_fmt) and fmt != truth_fmt else None
        scores.append(frame_iou(parse_box(answer_span(completion)), parse_box(truth), fmt, truth_fmt, size))
    return scores


def _check_frames(box_format=None, answer_box_format=None, image_size=None, **_) -> None:
    """Recipe parameters that can never work, refused when the recipe or stream file is parsed."""
    check_box_format(box_format, "box_format")
    check_box_format(answer_box_format, "answer_box_format")
    if image_size is not None and image_size_of(image_size) is None:
        raise ValueError(f"image_size must be [width, height] in pixels (two numbers ≥ 1), got {image_size!r}.")


@register_reward("iou")
def iou(completions: list, answer: list, box_format=None, answer_box_format=None, image_size=None, image=None,
        images=None, **kwargs) -> list[float]:
    """IoU in [0, 1] of the ``<answer>`` box with the ground-truth box: a dense grounding reward.

    >>> iou(["<answer>[10, 20, 110, 220]</answer>", "<answer>[0, 0, 500, 1000]</answer>"],
    ...     answer=[[10, 20, 110, 220], [0, 0, 1000, 1000]])
    [1.0, 0.5]
    >>> iou(["<answer>[0, 0, 500, 1000]</answer>"], answer=[[0.0, 0.0, 1.0, 1.0]], box_format="norm1000",
    ...     answer_box_format="norm1")
    [0.5]
    """
    return box_ious(completions, answer, box_format, answer_box_format, image_size, image, images)


iou.check_params = _check_frames  # called by reward_fns.get when parameters are bound


@register_reward("grounding_accuracy")
def grounding_accuracy(completions: list, answer: list, box_format=None, answer_box_format=None, image_size=None,
                       image=None, images=None, threshold: float = 0.5, **kwargs) -> list[float]:
    """1.0 when IoU ≥ ``threshold`` (0.5, the RefCOCO convention), else 0.0: the strict grounding metric.

    >>> grounding_accuracy(["<answer>[0, 0, 0.5, 1]</answer>", "<answer>[0, 0, 0.4, 1]</answer>"],
    ...                    answer=["[0,0,1,1]"] * 2)
    [1.0, 0.0]
    """
    ious = box_ious(completions, answer, box_format, answer_box_format, image_size, image, images)
    return [1.0 if v >= threshold else 0.0 for v in ious]


def _check_accuracy(threshold: float = 0.5, **frames) -> None:
    _check_frames(**frames)
    if isinstance(threshold, bool) or not isinstance(threshold, Real) or not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be a number in (0, 1] (an IoU; 0 would count a missing box as right), "
                         f"got {threshold!r}.")


grounding_accuracy.check_params = _check_accuracy
