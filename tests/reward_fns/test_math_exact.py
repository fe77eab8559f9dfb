"""``math_equivalence`` decides exactly: its shortcuts never disagree with exact arithmetic or with math-verify.

Reference: math-verify (huggingface/Math-Verify 0.9, ``math_verify/grader.py``): integers and fractions compare
exactly; when either side is a decimal (sympy ``Float``) both are rounded to ``float_rounding=6`` decimal places.
"""

from __future__ import annotations

import decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from math_verify import parse, verify

from reward_fns.math_equivalence import equivalent, shortcut
from reward_fns.parsing import to_fraction, to_number


def math_verify(predicted: str, truth: str) -> bool:
    """math-verify alone, on bare text wrapped in ``$…$`` as its LaTeX extractor needs."""
    return bool(verify(parse(f"${truth}$"), parse(f"${predicted}$")))


# (prediction, truth, expected, why) — each expected value worked out by hand from the rule above.
HAND = [
    ("12345678901234567891", "12345678901234567890", False, "integers > 2^53 differing in the last digit (a float "
     "comparison calls them equal: both round to 12345678901234567168.0)"),
    ("9007199254740993", "9007199254740992", False, "2^53 + 1 vs 2^53: the same double, different integers"),
    ("9007199254740993", "9007199254740993.0", True, "the same integer written as a decimal"),
    ("\\frac{1}{2}", "0.5", True, "1/2 = 0.5 exactly"),
    ("-0.5", "-1/2", True, "negative: -1/2 = -0.5 exactly"),
    ("-0.5", "1/2", False, "sign differs"),
    ("1E3", "1000", True, "upper-case E is a decimal exponent: 1 × 10^3 = 1000"),
    ("1e3", "1000", False, "math-verify reads lower-case e as Euler's number: 1·e·3 ≈ 8.15, not 1000"),
    ("1.5E-7", "0.00000015", True, "1.5 × 10^-7 exactly"),
    ("0.3333333333", "1/3", True, "|1/3 - 0.3333333333| = 3.3e-11: the same after rounding to 6 places"),
    ("0.333333", "1/3", True, "0.333333 is 1/3 rounded to 6 places"),
    ("0.3333", "1/3", False, "0.3333 rounds to 0.333300 ≠ 0.333333"),
    ("0.1234567890123456789012345", "0.1234567890123456789012346", True, "apart by 1e-25: equal to 6 places"),
    ("1234567.8901234567890", "1234567.8901234567891", True, "apart by 1e-19: equal to 6 places"),
    ("1234567.891", "1234567.892", False, "apart by 1e-3"),
    ("123456789012345678901234567890", "123456789012345678901234567891", False, "integers compare exactly"),
    ("2/6", "1/3", True, "fractions compare by value"),
    ("1,234,567", "1234567", True, "thousands separators"),
    ("2", "2.0000001", False, "a Float that rounds to 2.000000 vs the Integer 2: math-verify says no (in its band)"),
    ("1.0000001", "1.0", True, "two Floats equal to 6 places"),
    ("45", "45%", True, "math-verify equates a percentage with its number (45% = 45)"),
    ("0.45", "45%", True, "and with its value (45% = 0.45)"),
    ("5", "\\text{5}", True, "math-verify compares a symbol with a number by name"),
    ("4.1231056", "\\sqrt{17}", True, "√17 = 4.12310562…, the same to 6 places"),
    ("4.1231", "\\sqrt{17}", False, "√17 - 4.1231 = 6e-6, beyond 6 places"),
]


@pytest.mark.parametrize("prediction, truth, expected, why", HAND, ids=[h[3][:40] for h in HAND])
def test_hand_cases(prediction, truth, expected, why):
    assert equivalent(prediction, truth) is expected
    assert math_verify(prediction, truth) is expected  # the reference itself agrees with the hand value
    decided = shortcut(prediction, truth)
    assert decided is None or decided is expected


def test_to_fraction_is_exact_where_to_number_rounds():
    assert to_fraction("12345678901234567891") - to_fraction("12345678901234567890") == 1
    assert to_number("12345678901234567891") == to_number("12345678901234567890")  # why the float path was wrong
    assert to_fraction("0.1") == Fraction(1, 10) and to_fraction("1,234.5") == Fraction(2469, 2)
    assert to_fraction("45%") == Fraction(9, 20) and to_fraction("-3/4") == Fraction(-3, 4)
    assert to_fraction("1/0") is None and to_fraction("three") is None and to_fraction("1e1001") is None
    assert to_fraction(".5") == Fraction(1, 2) and to_number(".5") == 0.5  # was 5.0: the leading "." was stripped


# ------------------------------------------------------------------------------------------- generated numbers
decimal.getcontext().prec = 80


def _decimal(value: Fraction, places: int, truncate: bool) -> str:
    q = decimal.Decimal(value.numerator) / decimal.Decimal(value.denominator)
    mode = decimal.ROUND_DOWN if truncate else decimal.ROUND_HALF_EVEN
    return format(q.quantize(decimal.Decimal(1).scaleb(-places), rounding=mode), "f")


@st.composite
def spelling(draw, value: Fraction) -> str:
    """``value`` written as an integer, a fraction, a decimal (exact or to some places) or in E notation."""
    style = draw(st.sampled_from(["plain", "fraction", "decimal", "sci", "sci_lower"]))
    if style == "plain" and value.denominator == 1:
        n = value.numerator
        return f"{n:,}" if draw(st.booleans()) else str(n)
    if style == "fraction" or (style == "plain" and value.denominator != 1):
        k = draw(st.integers(1, 5))
        return f"{value.numerator * k}/{value.denominator * k}"
    places = draw(st.integers(0, 25))
    text = _decimal(value, places, truncate=draw(st.booleans()))
    if style == "decimal":
        return text if "." in text or draw(st.booleans()) else text + ".0"
    d = decimal.Decimal(text)
    mantissa, exponent = f"{d:E}".split("E")
    return f"{mantissa}{'E' if style == 'sci' else 'e'}{int(exponent)}"


VALUES = st.one_of(
    st.integers(-10**6, 10**6), st.integers(2**53 - 20, 2**53 + 20), st.integers(-10**30, 10**30),
    st.fractions(max_denominator=10**6).filter(lambda f: abs(f) < 10**12),
    st.builds(lambda n, k: Fraction(n, 10**k), st.integers(-10**25, 10**25), st.integers(1, 25)),
).map(Fraction)
NUDGES = st.sampled_from([0, 0, 1, -1] + [Fraction(s, 10**k) for k in (4, 5, 6, 7, 8, 12, 20) for s in (1, -1)])


@st.composite
def pairs(draw) -> tuple[str, str]:
    """(prediction, truth): one value in two spellings, nudged (1, 1e-6, 1e-20 …) or a different value."""
    truth = draw(VALUES)
    other = draw(st.one_of(NUDGES.map(lambda d: truth + d), VALUES))
    return draw(spelling(other)), draw(spelling(truth))


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(pair=pairs())
def test_shortcut_decides_as_math_verify_and_exact_arithmetic(pair):
    prediction, truth = pair
    decided = shortcut(prediction, truth)
    if decided is None:
        return
    assert decided == math_verify(prediction, truth)
    if decided and "e" not in prediction + truth:  # lower-case e is Euler's number for math-verify
        assert to_fraction(prediction) == to_fraction(truth)


@SETTINGS
@given(pair=pairs())
def test_equivalent_is_math_verify(pair):
    assert equivalent(*pair) == math_verify(*pair)
