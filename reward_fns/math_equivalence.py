"""Mathematical equivalence of the answer and the ground truth, decided by ``math-verify`` (sympy-backed).

Answers and ground truths may be plain numbers, fractions, ``\\boxed{…}`` or bare LaTeX (``\\dfrac{3}{4}``) as in
MATH-style data. Parsing is cached per string, since GRPO groups repeat answers and datasets repeat ground truths.

Numeric tolerance: this is math-verify's (``math_verify/grader.py``, ``verify(float_rounding=6,
numeric_precision=15)``). Integers and fractions are compared exactly, so ``12345678901234567890`` is not
``12345678901234567891``. As soon as one side is a decimal (a sympy ``Float``) both sides are rounded to 6 decimal
places before comparing, and a ``Float`` holds max(15, digits written) significant digits: ``0.333333`` and
``0.3333333333`` equal ``1/3``, ``0.3333`` does not, ``1.0000001`` equals ``1.0`` but not ``1``, and large decimals
agree once they match to about 15 significant digits. Spellings: math-verify reads a lower-case ``e`` as Euler's
number, so ``1e3`` is ``3e`` (not 1000) while ``1E3`` is 1000; it equates ``45%`` with ``0.45`` and with ``45``.

Shortcuts decide before math-verify's symbolic comparison (which is slow), but only where they cannot differ from
it: identical texts; two plain numbers, by exact rational arithmetic (``fractions``); structurally identical parses;
a number against a numeric ground truth (sympy numbers converted exactly, constants such as ``\\sqrt{17}``
evaluated to 20 digits) or against a non-constant polynomial. A shortcut says *equivalent* only for exactly equal
values and *not equivalent* only for values that differ exactly and by more than ``2e-6 + 1e-12·max(|a|, |b|)``
when a decimal is involved (beyond math-verify's rounding); in between, and for percentages and lower-case ``e``,
math-verify decides.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from fractions import Fraction

from math_verify import parse, verify
from math_verify.utils import timeout as math_timeout
from sympy import Basic, Expr, Float, Integer, Number, Poly, Rational, Symbol, UnevaluatedExpr

from reward_fns.parsing import answer_span, to_fraction
from reward_fns.registry import register_reward


MAX_CHARS = 1000  # longer "answers" are not maths answers; refusing them keeps sympy from pathological inputs
_DELIMITED = ("$", "\\(", "\\[", "\\boxed")
# sympy's Float("1E1000000") runs for minutes, and math-verify's timeout is off outside the main thread.
_HUGE_EXPONENT_RE = re.compile(r"\dE[-+]?\d{5,}")
# Beyond math-verify's rounding of decimals to 6 places (a step of 1e-6) and a Float's 15 significant digits,
# each with a wide margin: values further apart than this are never equal for math-verify.
_ABS_TOL = Fraction(2, 10**6)
_REL_TOL = Fraction(1, 10**12)
_MAX_BITS = 4096  # exact conversion of a sympy Float with a larger exponent or mantissa is refused (too costly)


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
    if not text or len(text) > MAX_CHARS or _HUGE_EXPONENT_RE.search(text):
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
    decided = shortcut(predicted, truth, timeout_seconds)
    return decided if decided is not None else math_verify_alone(predicted, truth, timeout_seconds)


def math_verify_alone(predicted: str, truth: str, timeout_seconds: int = 1) -> bool:
    """math-verify's own decision on the parsed texts, no shortcut taken."""
    timeout = _timeout(timeout_seconds)
    gold, answer = _parsed(truth, timeout), _parsed(predicted, timeout)
    if not gold or not answer:
        return False
    try:
        return bool(verify(list(gold), list(answer), timeout_seconds=timeout, raise_on_error=False))
    except Exception:  # noqa: BLE001
        return False


def shortcut(predicted: str, truth: str, timeout_seconds: int = 1) -> bool | None:
    """The decision, where it needs no symbolic comparison (see the module docstring), else None."""
    if " ".join(predicted.split()) == " ".join(truth.split()):
        return True
    a, b = _plain_number(predicted), _plain_number(truth)
    if a is not None and b is not None:
        decided = _compare(a[0], b[0], inexact=a[1] or b[1])
        if decided is not None:
            return decided
    timeout = _timeout(timeout_seconds)
    gold, answer = _parsed(truth, timeout), _parsed(predicted, timeout)
    if not gold or not answer:
        return False  # math-verify too: an unparsable side is never equivalent
    if _clearly_same(gold[0], answer[0]):
        return True
    return False if _clearly_different(gold[0], answer[0], timeout) else None


def _plain_number(text: str) -> tuple[Fraction, bool] | None:
    """The exact value of a plain number (``-12``, ``0.75``, ``3/4``, ``1,234``, ``1.5E3``) and whether it is written
    as a decimal (math-verify then compares it rounded); None for other text and for spellings math-verify reads
    otherwise (lower-case ``e`` is Euler's number; ``%``, ``$`` and LaTeX are left to it)."""
    if len(text) > MAX_CHARS:  # not a maths answer (and past Python's 4300-digit int parsing limit)
        return None
    if text.isascii() and text.isdigit():  # the common case, without to_fraction's parsing ("²", "٣" are digits too)
        return Fraction(int(text)), False
    if not text.isascii() or any(c in text for c in "%$\\e"):  # \d would also take "٣"; "−" is left to math-verify
        return None
    value = to_fraction(text)
    return None if value is None else (value, "." in text or "E" in text)


def _compare(a: Fraction, b: Fraction, inexact: bool) -> bool | None:
    """Exact values: equal → True; different → False when both are integers or fractions (math-verify compares
    those exactly) or when they are apart beyond math-verify's rounding; otherwise None (math-verify decides)."""
    if a == b:
        return True
    if not inexact or abs(a - b) > _ABS_TOL + _REL_TOL * max(abs(a), abs(b)):
        return False
    return None


def _exact(number: Basic) -> tuple[Fraction, bool] | None:
    """A finite sympy number's exact value (a ``Float``'s binary value) and whether it is a ``Float``; else None."""
    if isinstance(number, Integer):
        return Fraction(int(number)), False
    if isinstance(number, Rational):
        return Fraction(int(number.p), int(number.q)), False
    if isinstance(number, Float) and number.is_finite:
        _, _, exponent, bits = number._mpf_
        if abs(exponent) + bits <= _MAX_BITS:
            value = Rational(number)
            return Fraction(int(value.p), int(value.q)), True
    return None


def _clearly_same(gold, answer) -> bool:
    """Structurally identical sympy objects (``3/4`` and ``\\frac{3}{4}``): equivalent without simplification."""
    try:
        return isinstance(gold, Basic) and gold == answer
    except Exception:  # noqa: BLE001
        return False


def _clearly_different(gold, answer, timeout: int | None) -> bool:
    """Not equivalent, no symbolic simplification needed: two numbers exactly different beyond math-verify's
    rounding, or a number against a ground truth that is a non-constant polynomial (``84x+27`` vs ``1234``) or a
    constant whose value is far from it (``\\sqrt{17}`` vs ``4``). Only the trusted ground truth is expanded or
    evaluated, never the model's answer. A lone symbol (``\\text{5}``) and a percentage (``45\\%``) are left to
    math-verify, which compares those by name and by value with or without the percent."""
    try:
        if not isinstance(answer, Number) or not isinstance(gold, Expr) or isinstance(gold, Symbol) \
                or gold.has(UnevaluatedExpr):
            return False
        a = _exact(answer)
        if a is None:
            return False
        if isinstance(gold, Number):
            g = _exact(gold)
            return g is not None and _compare(g[0], a[0], inexact=g[1] or a[1]) is False
        if gold.free_symbols:
            return Poly(gold, *sorted(gold.free_symbols, key=str)).total_degree() > 0
        g = _constant_value(gold, timeout)  # an approximation, so never a reason to say "equivalent"
        return g is not None and _compare(g, a[0], inexact=True) is False
    except Exception:  # noqa: BLE001 — not a polynomial, or not comparable: let math-verify decide
        return False


@functools.lru_cache(maxsize=65536)
def _constant_value(gold: Expr, timeout: int | None) -> Fraction | None:
    """A constant ground truth's real value to 20 significant digits (under math-verify's timeout), or None."""
    value = math_timeout(timeout)(gold.evalf)(20)
    exact = _exact(value) if isinstance(value, Float) else None
    return exact[0] if exact is not None else None


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
