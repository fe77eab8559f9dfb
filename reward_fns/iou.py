"""Grounding rewards: IoU of the predicted box with the ground truth (training), IoU ≥ 0.5 accuracy (evaluation)."""

from __future__ import annotations

from reward_fns.boxes import BOX_FORMATS, box_iou, parse_box, to_unit_box
from reward_fns.parsing import answer_span
from reward_fns.registry import register_reward


def _per_sample(value, n: int, default) -> list:
    """A reward argument given either once (recipe parameter) or per sample (dataset column)."""
    if value is None:
        return [default] * n
    return list(value) if isinstance(value, (list, tuple)) and len(value) == n and not _is_size(value) else [value] * n


def _is_size(value) -> bool:
    return len(value) == 2 and all(isinstance(v, (int, float)) for v in value)


def _image_size(image_size, image):
    if image_size is not None:
        return image_size
    if isinstance(image, list) and image:  # a row's list of images: the first one is the grounded image
        image = image[0]
    return getattr(image, "size", None)


def box_ious(completions: list, answer: list, box_format=None, answer_box_format=None, image_size=None,
             image=None, images=None) -> list[float]:
    """IoU per completion, all boxes mapped to [0, 1] image coordinates first.

    ``box_format`` is how the model writes boxes (see ``reward_fns.boxes``; default ``norm1``) and
    ``answer_box_format`` how ``answer`` is stored (default: the same); ``pixel`` needs ``image_size`` ([w, h]) or the
    row's image. Each may be a recipe parameter or a dataset column.
    """
    n = len(completions)
    formats = _per_sample(box_format, n, "norm1")
    stored = _per_sample(answer_box_format, n, None)
    truth_formats = [t if t is not None else f for t, f in zip(stored, formats, strict=True)]
    for fmt in set(formats) | set(truth_formats):
        if fmt not in BOX_FORMATS:
            raise ValueError(f"box_format must be one of {BOX_FORMATS}, got {fmt!r}.")
    sizes = _per_sample(image_size, n, None)
    pictures = _per_sample(image if image is not None else images, n, None)
    scores = []
    for i, (completion, truth) in enumerate(zip(completions, answer, strict=True)):
        size = _image_size(sizes[i], pictures[i])
        predicted = to_unit_box(parse_box(answer_span(completion)), formats[i], size)
        expected = to_unit_box(parse_box(truth), truth_formats[i], size)
        scores.append(box_iou(predicted, expected))
    return scores


@register_reward("iou")
def iou(completions: list, answer: list, box_format=None, answer_box_format=None, image_size=None, image=None,
        images=None, **kwargs) -> list[float]:
    """IoU in [0, 1] of the ``<answer>`` box with the ground-truth box: a dense grounding reward.

    >>> iou(["<answer>[0, 0, 500, 1000]</answer>"], answer=[[0.0, 0.0, 1.0, 1.0]], box_format="norm1000",
    ...     answer_box_format="norm1")
    [0.5]
    """
    return box_ious(completions, answer, box_format, answer_box_format, image_size, image, images)


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
