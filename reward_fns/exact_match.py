"""Exact-match accuracy on the ``<answer>`` span, case- and whitespace-insensitive."""

from __future__ import annotations

from reward_fns.parsing import completion_text, extract_answer, normalize
from reward_fns.registry import register_reward


@register_reward("exact_match")
def exact_match(completions: list, answer: list, **kwargs) -> list[float]:
    """1.0 when the answer span equals the ground truth after normalisation, else 0.0.

    >>> exact_match(["<answer> Red </answer>", "<answer>blue</answer>", "red"], answer=["red", "red", "red"])
    [1.0, 0.0, 0.0]
    """
    scores = []
    for completion, truth in zip(completions, answer, strict=True):
        predicted = extract_answer(completion_text(completion))
        scores.append(1.0 if predicted is not None and normalize(predicted) == normalize(str(truth)) else 0.0)
    return scores
