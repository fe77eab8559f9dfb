"""Turning untrusted model output into text, the graded answer span and numbers; nothing here raises."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any


ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
TAG_RE = re.compile(r"</?answer>", re.IGNORECASE)
# The think/answer tags in any case: the format reward wants exactly the prompt's lower-case tags, in order, and no
# other (nested, repeated or differently-cased) think/answer tag.
FORMAT_TAG_RE = re.compile(r"</?(?:think|answer)>", re.IGNORECASE)
_NUMBER_TOKEN_RE = re.compile(r"[-+−]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d*\.\d+|\d+)(?:[eE][-+]?\d+)?"
                              r"(?:\s*/\s*\d+(?:\.\d+)?)?")


def completion_text(completion: Any) -> str:
    """A completion as TRL passes it: a string, or a conversation whose last assistant turn holds the text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        last = completion[-1]
        content = last.get("content", "") if isinstance(last, dict) else last
        if isinstance(content, list):  # multimodal parts
            return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
        return content if isinstance(content, str) else "" if content is None else str(content)
    return "" if completion is None or isinstance(completion, (list, dict)) else str(completion)


def extract_answer(text: str) -> str | None:
    """The text inside the last ``<answer>…</answer>`` (stray inner tags removed), or None when there is none."""
    found = ANSWER_RE.findall(text)
    return TAG_RE.sub("", found[-1]).strip() if found else None


def answer_span(completion: Any) -> str | None:
    """The graded answer of one completion: its ``<answer>`` span, or None."""
    return extract_answer(completion_text(completion))


def normalize(text: str) -> str:
    return " ".join(text.lower().strip().strip(".").split())


def _number_text(text: str) -> tuple[str, bool] | None:
    """``text`` reduced to the number token ``to_number`` reads (no ``$``, spaces, trailing full stop, ``%``) and
    whether it was a percentage; None when it is not one number."""
    text = text.strip().rstrip(".").replace("−", "-").replace("$", "").replace("\\%", "%").strip()
    percent = text.endswith("%")
    text = text.rstrip("%").strip()
    return (text, percent) if text and _NUMBER_TOKEN_RE.fullmatch(text) else None


def to_number(text: str) -> float | None:
    """The one number ``text`` spells (``1,234``, ``-0.5``, ``3/4``, ``1e-3``, ``45%`` → 0.45, ``$12``), else None.

    >>> [to_number(s) for s in ["1,234", "-1,234.5", "3/4", "45%", "$12.50", "-2e3", ".5", "1/0", "three", "1,23"]]
    [1234.0, -1234.5, 0.75, 0.45, 12.5, -2000.0, 0.5, None, None, None]
    """
    parts = _number_text(text)
    if parts is None:
        return None
    text, percent = parts
    try:
        if "/" in text:
            num, den = (Fraction(part.replace(",", "").strip()) for part in text.split("/"))
            value = float(num / den) if den != 0 else math.nan
        else:
            value = float(text.replace(",", ""))
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    if not math.isfinite(value):
        return None
    return value / 100.0 if percent else value


MAX_EXPONENT = 1000  # |exponent| cap for exact values: Fraction("1e999999999") would build a billion-digit integer
_EXPONENT_RE = re.compile(r"[eE]([-+]?\d+)")


def to_fraction(text: str) -> Fraction | None:
    """The exact value of the number ``to_number`` reads (same spellings), where a float would round
    ``12345678901234567891`` or ``0.1``; None when there is no one finite number or its exponent exceeds
    ``MAX_EXPONENT``.

    >>> [str(to_fraction(s)) for s in ["12345678901234567891", "0.1", "-3/4", "45%", "1,234.5", "1e-3", "1/0"]]
    ['12345678901234567891', '1/10', '-3/4', '9/20', '2469/2', '1/1000', 'None']
    """
    parts = _number_text(text)
    if parts is None or any(abs(int(e)) > MAX_EXPONENT for e in _EXPONENT_RE.findall(parts[0])):
        return None
    text, percent = parts
    num, _, den = text.replace(",", "").partition("/")
    try:
        value = Fraction(num.strip()) / Fraction(den.strip() or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return value / 100 if percent else value
