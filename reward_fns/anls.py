"""ANLS: average normalized Levenshtein similarity, the scene-text / document VQA metric (TextVQA-style OCR tasks).

Definition: Biten et al., "Scene Text Visual Question Answering", ICCV 2019 (arXiv:1905.13648), Eq. 1 — per question
the best over the acceptable answers of ``1 − NL`` when the normalized edit distance ``NL < τ`` (τ = 0.5), else 0;
answers compared lower-cased with surrounding whitespace removed, as in the Robust Reading Competition's scorer.
Edit distance from ``rapidfuzz`` (C++), not hand-written.
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from reward_fns.parsing import answer_span
from reward_fns.registry import register_reward


def _clean(text: str) -> str:
    return " ".join(text.strip().lower().split())


def anls_score(prediction: str, answers: list[str], threshold: float = 0.5) -> float:
    """Best similarity of ``prediction`` to any acceptable answer, zeroed when its distance is ≥ ``threshold``.

    >>> anls_score("Dear dr. Lobo", ["Dear Dr. Lobo", "Dr. Lobo"]), round(anls_score("12/15/89", ["12/15/88"]), 3)
    (1.0, 0.875)
    >>> anls_score("abcd", ["abef"]), anls_score("", ["x"])
    (0.0, 0.0)
    """
    predicted = _clean(prediction)
    best = 0.0
    for truth in answers:
        nl = Levenshtein.normalized_distance(predicted, _clean(truth))  # distance / max(len); 0 for two empty strings
        if nl < threshold:
            best = max(best, 1.0 - nl)
    return best


@register_reward("anls")
def anls(completions: list, answer: list, threshold: float = 0.5, **kwargs) -> list[float]:
    """ANLS of the ``<answer>`` span against ``answer`` (one string or a list of acceptable strings).

    >>> anls(["<answer>Denver Broncos</answer>", "Denver Broncos"], answer=[["Denver Broncos", "Broncos"], "x"])
    [1.0, 0.0]
    """
    scores = []
    for completion, truth in zip(completions, answer, strict=True):
        span = answer_span(completion)
        truths = [str(t) for t in truth] if isinstance(truth, (list, tuple)) else [str(truth)]
        scores.append(0.0 if span is None else anls_score(span, truths, threshold))
    return scores
