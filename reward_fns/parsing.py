"""Turning untrusted model output into text and the graded answer span; never raises."""

from __future__ import annotations

import re
from typing import Any


ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
FORMAT_RE = re.compile(r"^\s*(?:<think>(?:(?!</?think>).)*</think>\s*)?<answer>(?:(?!</?answer>).)*</answer>\s*$",
                       re.DOTALL | re.IGNORECASE)


def completion_text(completion: Any) -> str:
    """A completion as TRL passes it: a string, or a conversation whose last assistant turn holds the text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        last = completion[-1]
        content = last.get("content", "") if isinstance(last, dict) else last
        if isinstance(content, list):  # multimodal parts
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content if isinstance(content, str) else str(content)
    return "" if completion is None else str(completion)


def extract_answer(text: str) -> str | None:
    """The text inside the last ``<answer>…</answer>``, or None when the model gave none."""
    found = ANSWER_RE.findall(text)
    return found[-1].strip() if found else None


def normalize(text: str) -> str:
    return " ".join(text.lower().strip().strip(".").split())
