"""Mathematical equivalence of the answer and the ground truth, decided by ``math-verify`` (sympy-backed).

Answers and ground truths may be plain numbers, fractions, ``\\boxed{…}`` or bare LaTeX (``\\dfrac{3}{4}``) as in
MATH-style data. Parsing is cached per string, since GRPO groups repeat answers and datasets repeat ground truths;
identical texts, plain numbers and structurally identical parses are decided before math-verify's symbolic
comparison (which can only agree with them).
"""

from __future__ import annotations

import functools
import logging
import math
import threading

from math_verify import parse, verify
from math_verify.utils import timeout as math_timeout
from sympy import Basic, Expr, Number, Poly

from reward_fns.parsing import answer_span, to_number
from reward_fns.registry import register_reward


MAX_CHARS = 1000  # longer "answers" are not maths answers; refusing them keeps sympy from pathological inputs
_DELIMITED = ("$", "\\(", "\\[", "\\boxed")


def _timeout(seconds: int) -> int | None:
    # math-verify's timeouts use signal.alarm, which only works in the main thread (as TRL's accuracy_reward notes).
    if threading.current_thread() is threading.main_thread():
        return seconds
    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).setLevel(logging.ERROR)  # "timeout disabled" warnings, once per call otherwise
    return None


@functools.lru_cache(maxsize=65536)
def _parsed(text: str, timeout: int | None) -> tuple:
    """math-verify's parse of ``text``; bare LaTeX is wrapped in ``$…$`` so that its extractor finds it."""
    text = text.strip()
    if not text or len(text) > MAX_CHARS:
        return ()
    attempts = [text] if any(d in text for d in _DELIMITED) else [f"${text}$", text]
    for attempt in attempts:
        try:
            result = parse(attempt, parsing_timeout=timeout, raise_on_error=False)
        except Exception:  # noqa: BLE001 — model output is untrusted; an unparsable answer is just wrong
            result = []
        if result:
            return tuple(result)
    return ()


def equivalent(predicted: str, truth: str, timeout_seconds: int = 1) -> bool:
    """Whether ``predicted`` and ``truth`` are the same mathematical object; undecided within the timeout
    (per parse and per comparison, e.g. a power tower) counts as not equivalent.

    >>> equivalent("0.75", "\\\\dfrac{3}{4}"), equivalent("\\\\boxed{\\\\frac{1}{2}}", "2/4"), equivalent("3", "4")
    (True, True, False)
    """
    if " ".join(predicted.split()) == " ".join(truth.split()):
        return True
    a, b = to_number(predicted), to_number(truth)
    if a is not None and b is not None:  # two plain numbers: equal, or apart beyond math-verify's 6-decimal rounding
        if a == b or abs(a - b) > 1e-4 * max(1.0, abs(b)):
            return a == b
    timeout = _timeout(timeout_seconds)
    gold, answer = _parsed(truth, timeout), _parsed(predicted, timeout)
    if not gold or not answer:
        return False
    if _clearly_same(gold[0], answer[0]) or _clearly_different(gold[0], answer[0], timeout):
        return _clearly_same(gold[0], answer[0])
    try:
        return bool(verify(list(gold), list(answer), timeout_seconds=timeout, raise_on_error=False))
    except Exception:  # noqa: BLE001
        return False


def _clearly_same(gold, answer) -> bool:
    """Structurally identical sympy objects (``3/4`` and ``\\frac{3}{4}``): equivalent without simplification."""
    try:
        return isinstance(gold, Basic) and gold == answer
    except Exception:  # noqa: BLE001
        return False


def _clearly_different(gold, answer, timeout: int | None) -> bool:
    """Not equivalent, no symbolic simplification needed: two numbers apart beyond rounding, or a number against a
    ground truth that is a non-constant polynomial (``84x+27`` vs ``1234``). Only the trusted ground truth is
    expanded, never the model's answer."""
    try:
        if isinstance(gold, Number) and isinstance(answer, Number):
            g, a = float(gold), float(answer)
            return math.isfinite(g) and math.isfinite(a) and abs(g - a) > 1e-4 * max(1.0, abs(g))
        if isinstance(answer, Number) and isinstance(gold, Expr) and gold.free_symbols:
            return Poly(gold, *sorted(gold.free_symbols, key=str)).total_degree() > 0
        if isinstance(answer, Number) and isinstance(gold, Expr):  # a constant such as \\sqrt{17}: compare values
            g, a = _constant_value(gold, timeout), float(answer)
            return g is not None and math.isfinite(a) and abs(g - a) > 1e-4 * max(1.0, abs(g))
    except Exception:  # noqa: BLE001 — not a polynomial, or not comparable: let math-verify decide
        pass
    return False


@functools.lru_cache(maxsize=65536)
def _constant_value(gold: Expr, timeout: int | None) -> float | None:
    """The real value of a constant ground truth (evaluated under math-verify's timeout), or None."""
    value = complex(math_timeout(timeout)(gold.evalf)(15))
    return value.real if abs(value.imag) < 1e-12 and math.isfinite(value.real) else None


@register_reward("math_equivalence")
def math_equivalence(completions: list, answer: list, timeout_seconds: int = 1, **kwargs) -> list[float]:
    """1.0 when the ``<answer>`` span is mathematically equivalent to the ground truth, else 0.0.

    >>> math_equivalence(["<answer>\\\\boxed{\\\\dfrac{3}{4}}</answer>", "<answer>1/0</answer>"], answer=["0.75", "1"])
    [1.0, 0.0]
    """
    scores = []
    for completion, truth in zip(completions, answer, strict=True):
        span = answer_span(completion)
        scores.append(1.0 if span is not None and equivalent(span, str(truth), timeout_seconds) else 0.0)
    return scores
