"""Numeric answers within a relative / absolute tolerance (counts, measurements, chart values)."""

from __future__ import annotations

import math

from reward_fns.parsing import answer_span, to_number
from reward_fns.registry import register_reward


def numbers_close(predicted: float | None, expected: float | None, rel_tol: float, abs_tol: float) -> bool:
    if predicted is None or expected is None:
        return False
    return math.isclose(predicted, expected, rel_tol=rel_tol, abs_tol=abs_tol)


@register_reward("numeric")
def numeric(completions: list, answer: list, rel_tol: float = 1e-6, abs_tol: float = 1e-9, **kwargs) -> list[float]:
    """1.0 when the ``<answer>`` span is one number within ``rel_tol`` (relative) or ``abs_tol`` (absolute) of the
    ground truth. Spellings: ``1,234``, ``-0.5``, ``3/4``, ``1e-3``, ``45%`` (= 0.45), ``$12``. ChartQA's "relaxed
    accuracy" is ``rel_tol=0.05``.

    >>> numeric(["<answer>1,000</answer>", "<answer>0.5</answer>", "<answer>about 3</answer>"],
    ...         answer=[1000, "1/2", 3])
    [1.0, 1.0, 0.0]
    """
    scores = []
    for completion, truth in zip(completions, answer, strict=True):
        span = answer_span(completion)
        predicted = to_number(span) if span is not None else None
        plain = isinstance(truth, (int, float)) and not isinstance(truth, bool)
        expected = float(truth) if plain else to_number(str(truth))
        scores.append(1.0 if numbers_close(predicted, expected, rel_tol, abs_tol) else 0.0)
    return scores
