"""Model output is untrusted: no built-in reward ever raises, and every score is a finite float in its range."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reward_fns


FRAGMENTS = ["<answer>", "</answer>", "<think>", "</think>", "<ANSWER>", "<|box_start|>", "<|box_end|>",
             '"bbox_2d": [', "]", "[", "(", ")", ",", " ", "\n", "-", ".", "/", "%", "$", "\\boxed{", "}", "{",
             "\\frac{", "\\dfrac{", "^", "1e999", "9" * 400, "-0", "0", "1/0", "\\frac{1}{0}", "x", "=", "B)",
             "The answer is ", "(C)", "é", "中", "\u200b", "\x00", "\ufffd", "💥", "NaN", "inf", "-inf", "sqrt"]
NUMBER = st.one_of(st.integers(-10**30, 10**30).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str))
TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), NUMBER, st.text(max_size=12)), max_size=40).map("".join)
COMPLETION = st.one_of(
    TEXT,
    TEXT.map(lambda t: f"<answer>{t}</answer>"),
    TEXT.map(lambda t: f"<think>{t}</think><answer>{t}</answer><answer>{t}</answer>"),
    TEXT.map(lambda t: [{"role": "assistant", "content": t}]),
    TEXT.map(lambda t: [{"role": "assistant", "content": [{"type": "text", "text": t}]}]),
    st.sampled_from([None, "", [], {}, [{"role": "assistant"}], [{"content": None}], 42]),
)
BOX = st.one_of(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4), TEXT)

# One ground truth of the kind each reward is used with; model output is what gets fuzzed.
TRUTHS = {
    "exact_match": st.one_of(TEXT, st.lists(TEXT, max_size=3)),
    "format": st.just(""),
    "multiple_choice": st.one_of(st.sampled_from(["A", "B", "(C)", 1, 30, -1]), TEXT),
    "vqa_accuracy": st.one_of(st.lists(TEXT, min_size=10, max_size=10), TEXT),
    "anls": st.one_of(st.lists(TEXT, min_size=1, max_size=3), TEXT),
    "cider": st.one_of(st.lists(TEXT, min_size=1, max_size=5), TEXT),
    "iou": BOX,
    "grounding_accuracy": BOX,
    "math_equivalence": st.one_of(TEXT, st.sampled_from(["\\dfrac{3}{4}", "0", "\\boxed{2}", "x^2"])),
    "numeric": st.one_of(NUMBER, TEXT, st.floats(allow_nan=True, allow_infinity=True)),
    "overlong_penalty": st.just(""),
}
RANGES = {"overlong_penalty": (-1.0, 0.0)}


def _check(name: str, completions: list, truths: list, **extra) -> None:
    scores = reward_fns.get(name)(completions, answer=truths, completion_ids=[[0] * 3] * len(completions), **extra)
    lo, hi = RANGES.get(name, (0.0, 1.0))
    assert len(scores) == len(completions)
    assert all(isinstance(s, float) and math.isfinite(s) and lo <= s <= hi for s in scores), scores


def test_every_builtin_is_fuzzed():
    assert set(TRUTHS) == set(reward_fns.available())


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=st.data())
def test_no_builtin_raises_on_untrusted_output(data):
    name = data.draw(st.sampled_from(sorted(TRUTHS)))
    completions = data.draw(st.lists(COMPLETION, min_size=1, max_size=4))
    truths = [data.draw(TRUTHS[name]) for _ in completions]
    _check(name, completions, truths)


@FUZZ
@given(completions=st.lists(COMPLETION, min_size=1, max_size=3), data=st.data())
def test_multiple_choice_with_options_never_raises(completions, data):
    choices = [data.draw(st.lists(TEXT, max_size=5)) for _ in completions]
    _check("multiple_choice", completions, ["B"] * len(completions), choices=choices)


@FUZZ
@given(box=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4),
       size=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=2),
       fmt=st.sampled_from(["norm1", "norm1000", "pixel"]))
def test_boxes_swapped_negative_or_degenerate_never_raise(box, size, fmt):
    text = f"<answer>[{', '.join(str(v) for v in box)}]</answer>"
    _check("iou", [text], [[0.1, 0.1, 0.9, 0.9]], box_format=fmt, answer_box_format="norm1", image_size=[size])


def test_pathological_maths_is_wrong_not_fatal():
    nasty = ["\\frac{1}{0}", "0/0", "9^{9^{9^{9^9}}}", "\\sqrt{-1}", "1e999999", "\\frac{", "}}}{{{", "x" * 5000,
             "\\infty", "-\\infty", "\\lim_{x\\to 0}", "1," * 300, "((((((((((" * 20]
    completions = [f"<answer>{t}</answer>" for t in nasty]
    _check("math_equivalence", completions, ["1"] * len(nasty))
    _check("numeric", completions, ["1"] * len(nasty))


def test_huge_and_hostile_strings():
    big = ["<answer>" + "1" * 20000 + "</answer>", "<answer>" + "[1, " * 5000 + "</answer>",
           "<answer>" * 3000 + "</answer>" * 3000, "(" * 20000]
    for name in sorted(TRUTHS):
        truth = {"iou": [0, 0, 1, 1], "grounding_accuracy": [0, 0, 1, 1]}.get(name, "1")
        _check(name, big, [truth] * len(big))
