"""Exact-match accuracy on the ``<answer>`` span, case- and whitespace-insensitive."""

from __future__ import annotations

from reward_fns.parsing import answer_span, normalize
from reward_fns.registry import register_reward


def _truths(truth) -> list[str]:
    return [str(t) for t in truth] if isinstance(truth, (list, tuple)) else [str(truth)]


@register_reward("exact_match")
def exact_match(completions: list, answer: list, **kwargs) -> list[float]:
    """1.0 when the answer span equals the ground truth (or one of a list of them) after normalisation, else 0.0.

    >>> exact_match(["<answer> Red </answer>", "<answer>blue</answer>", "red"], answer=["red", "red", "red"])
    [1.0, 0.0, 0.0]
    """
    scores = []
    for completion, truth in zip(completions, answer, strict=True):
        predicted = answer_span(completion)
        ok = predicted is not None and normalize(predicted) in {normalize(t) for t in _truths(truth)}
        scores.append(1.0 if ok else 0.0)
    return scores
