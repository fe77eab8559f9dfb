"""Multiple-choice accuracy: the letter the model chose, in the spellings models actually use."""

from __future__ import annotations

import re
import string

from reward_fns.parsing import answer_span, normalize
from reward_fns.registry import register_reward


# Hand-written: no kept library reads option letters. Order matters: the most explicit spellings first.
_PATTERNS = [
    re.compile(r"^\s*\(?\s*([A-Za-z])\s*\)?\s*[.:]?\s*$"),                  # B | (B) | B. | b
    re.compile(r"^\s*\(?([A-Z])\s*[.):\]]"),                                 # B) text | B. text | (B) text | B: text
    re.compile(r"\b(?:answer|option|choice)\s*(?:is|:)?\s*[:\-]?\s*\(?([A-Z])\b\)?", re.IGNORECASE),  # answer is B
    re.compile(r"\(([A-Z])\)"),                                               # … (B) … anywhere
]


def chosen_letter(text: str, choices: list | None = None) -> str | None:
    """The upper-case option letter ``text`` selects, or None; an option's text also selects it.

    >>> [chosen_letter(s) for s in ["B", "(b)", "B.", "B) Paris", "The answer is B", "Answer: (C)",
    ...                             "the answer is b."]]
    ['B', 'B', 'B', 'B', 'B', 'C', 'B']
    >>> [chosen_letter(s) for s in ["A cat", "the answer is a cat", "", "no idea"]]
    [None, None, None, None]
    """
    if choices:
        wanted = normalize(text)
        for i, option in enumerate(choices[:26]):
            if wanted and wanted == normalize(str(option)):
                return string.ascii_uppercase[i]
    for pattern in _PATTERNS:
        found = pattern.search(text)
        if found:
            letter = found.group(1).upper()
            rest = text[found.end():].lstrip()
            if found.group(1).islower() and rest and rest[0] not in ".):,;":
                continue  # "the answer is a cat": a lower-case letter followed by more words is an article
            if choices and string.ascii_uppercase.index(letter) >= len(choices):
                return None  # a letter past the last option is not a choice
            return letter
    return None


def _truth_letter(truth, choices: list | None) -> str | None:
    if isinstance(truth, int) and not isinstance(truth, bool):
        return string.ascii_uppercase[truth] if 0 <= truth < 26 else None
    return chosen_letter(str(truth), choices)


@register_reward("multiple_choice")
def multiple_choice(completions: list, answer: list, choices: list | None = None, **kwargs) -> list[float]:
    """1.0 when the chosen letter is the answer's letter.

    ``answer`` is a letter (any spelling above), a 0-based option index, or the option's text when the dataset has a
    ``choices`` column (one list of option texts per row; letters beyond it are not choices).

    >>> multiple_choice(["<answer>(B) Paris</answer>", "<answer>B</answer>", "<answer>Paris</answer>"],
    ...                 answer=["B", 2, "B"], choices=[None, None, ["Rome", "Paris"]])
    [1.0, 0.0, 1.0]
    """
    choices = choices if isinstance(choices, list) else [None] * len(completions)
    scores = []
    for completion, truth, options in zip(completions, answer, choices, strict=True):
        options = list(options) if isinstance(options, (list, tuple)) else None
        span = answer_span(completion)
        predicted = chosen_letter(span, options) if span is not None else None
        expected = _truth_letter(truth, options)
        scores.append(1.0 if predicted is not None and predicted == expected else 0.0)
    return scores
