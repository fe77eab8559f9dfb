"""Each built-in against reference values from its metric's authoritative definition (source cited per test)."""

from __future__ import annotations

import pytest

import reward_fns


def ans(text: str) -> str:
    return f"<think>...</think><answer>{text}</answer>"


# ---------------------------------------------------------------------------------------------------------- VQAv2
# Source: GT-Vision-Lab/VQA, PythonEvaluationTools/vqaEvaluation/vqaEval.py — acc = mean over the 10 human answers,
# each left out in turn, of min(1, #matching others / 3); predictions pass processPunctuation + processDigitArticle,
# references pass processPunctuation only, and only when the humans disagree.
@pytest.mark.parametrize("matches, expected", [(0, 0.0), (1, 0.3), (2, 0.6), (3, 0.9), (4, 1.0), (10, 1.0)])
def test_vqa_accuracy_counts_humans_as_the_toolkit_does(matches, expected):
    humans = ["2"] * matches + ["3"] * (10 - matches)
    assert reward_fns.get("vqa_accuracy")([ans("2")], answer=[humans]) == [pytest.approx(expected)]


@pytest.mark.parametrize("prediction, humans, expected", [
    ("Two", ["2"] * 10, 1.0),                                   # number words → digits
    ("none", ["0"] * 10, 1.0),                                  # 'none' → '0' (toolkit's manualMap)
    ("The cat.", ["cat"] * 10, 1.0),                             # articles dropped, final period dropped
    ("dont", ["don't"] * 10, 1.0),                               # contractions restored
    ("1,000", ["1000"] * 10, 1.0),                               # a 1,000-style number: punctuation removed
    ("3.5", ["3.5"] * 10, 1.0),                                  # a period before a digit stays
    ("yes!", ["yes"] * 10, 1.0),                                 # '!' becomes a space, then split away
    ("t-shirt", ["t shirt"] * 4 + ["shirt"] * 6, 1.0),           # '-' inside a word becomes a space
    ("t shirt", ["t-shirt"] * 3 + ["shirt"] * 7, 0.9),           # disagreeing references are punctuation-processed
    ("t shirt", ["t-shirt"] * 10, 0.0),                           # unanimous references are compared raw (toolkit)
    ("YES", ["yes"] * 10, 1.0),
    ("red and white", ["red"] * 10, 0.0),
])
def test_vqa_normalization_corner_cases(prediction, humans, expected):
    assert reward_fns.get("vqa_accuracy")([ans(prediction)], answer=[humans]) == [pytest.approx(expected)]


def test_vqa_accepts_annotation_dicts_and_needs_the_answer_span():
    humans = [{"answer": "blue", "answer_confidence": "yes", "answer_id": i} for i in range(1, 11)]
    assert reward_fns.get("vqa_accuracy")([ans("blue"), "blue"], answer=[humans, humans]) == [1.0, 0.0]


# ------------------------------------------------------------------------------------------------------------- ANLS
# Source: Biten et al., "Scene Text Visual Question Answering", ICCV 2019 (arXiv:1905.13648), Eq. 1: per question
# max over answers of (1 − NL) if NL < τ = 0.5 else 0, NL = Levenshtein / max length, compared lower-cased.
@pytest.mark.parametrize("prediction, answers, expected", [
    ("Denver Broncos", ["Denver Broncos", "Denver R. Broncos"], 1.0),
    ("12/15/89", ["12/15/88"], 1 - 1 / 8),
    ("Dear dr. Lobo", ["Dear Dr. Lobo", "Dr. Lobo"], 1.0),               # case-insensitive
    ("abcd", ["abef"], 0.0),                                            # NL = 0.5 is not < τ
    ("abcde", ["abcfg"], 1 - 2 / 5),                                    # NL = 0.4 < τ
    ("  Stop  ", ["stop"], 1.0),
    ("", ["stop"], 0.0),
])
def test_anls_matches_the_st_vqa_definition(prediction, answers, expected):
    assert reward_fns.get("anls")([ans(prediction)], answer=[answers]) == [pytest.approx(expected)]


# -------------------------------------------------------------------------------------------------------------- IoU
# Source: the standard box IoU (area of intersection / area of union), RefCOCO's accuracy = IoU ≥ 0.5
# (Mao et al. 2016; Kazemzadeh et al. 2014). Qwen2-VL writes [0, 1000)-normalised corners, Qwen2.5-VL absolute pixels.
def test_iou_in_each_coordinate_convention():
    iou = reward_fns.get("iou")
    truth = [[0.0, 0.0, 0.5, 0.5]]  # norm1, as CoIN stores RefCOCO boxes
    assert iou([ans("[0.25, 0.25, 0.75, 0.75]")], answer=truth) == [pytest.approx(1 / 7)]
    assert iou([ans("<|box_start|>(250,250),(750,750)<|box_end|>")], answer=truth, box_format="norm1000",
               answer_box_format="norm1") == [pytest.approx(1 / 7)]
    qwen25 = '```json\n[{"bbox_2d": [16, 16, 48, 48], "label": "the dog"}]\n```'
    assert iou([ans(qwen25)], answer=truth, box_format="pixel", answer_box_format="norm1",
               image_size=[[64, 64]]) == [pytest.approx(1 / 7)]
    assert iou([ans("[0, 0, 32, 32]")], answer=[[0, 0, 32, 32]], box_format="pixel", image_size=[64, 64]) == [1.0]


def test_iou_reads_the_image_size_from_the_row_image():
    from PIL import Image

    image = Image.new("RGB", (200, 100))
    score = reward_fns.get("iou")([ans("[0, 0, 100, 100]")], answer=[[0, 0, 0.5, 1]], box_format="pixel",
                                  answer_box_format="norm1", image=[image])
    assert score == [pytest.approx(1.0)]


def test_grounding_accuracy_thresholds_at_half():
    acc = reward_fns.get("grounding_accuracy")
    truth = [[0.0, 0.0, 1.0, 1.0]] * 3
    assert acc([ans("[0, 0, 0.5, 1]"), ans("[0, 0, 0.49, 1]"), ans("[1, 1, 0, 0]")], answer=truth) == [1.0, 0.0, 1.0]


def test_unknown_box_format_is_a_configuration_error():
    with pytest.raises(ValueError, match="box_format"):
        reward_fns.get("iou")([ans("[0,0,1,1]")], answer=[[0, 0, 1, 1]], box_format="xywh")


# ------------------------------------------------------------------------------------------------ math equivalence
# Source: math-verify (huggingface/Math-Verify) decides equivalence; answers as in MATH (Hendrycks et al. 2021).
@pytest.mark.parametrize("prediction, truth, expected", [
    ("0.75", "\\dfrac{3}{4}", 1.0),
    ("\\boxed{\\frac{1}{2}}", "2/4", 1.0),
    ("$\\frac{\\sqrt{2}}{2}$", "\\frac{1}{\\sqrt{2}}", 1.0),
    ("(x+1)^2", "x^2+2x+1", 1.0),
    ("\\dfrac{3}{4}", "3/4", 1.0),
    ("-7", "-7", 1.0),
    ("3", "4", 0.0),
    ("\\frac{1}{0}", "1", 0.0),
    ("x=3", "3", 1.0),
    ("I don't know", "3", 0.0),
])
def test_math_equivalence(prediction, truth, expected):
    assert reward_fns.get("math_equivalence")([ans(prediction)], answer=[truth]) == [expected]


# ---------------------------------------------------------------------------------------------------------- numeric
# Source: ChartQA's "relaxed accuracy" (Masry et al. 2022): correct within 5% relative error.
def test_numeric_tolerances():
    numeric = reward_fns.get("numeric")
    preds = [ans("104"), ans("106"), ans("1,000"), ans("50%"), ans("3/4"), ans("$12.00"), ans("twelve")]
    truth = [100, 100, "1000", 0.5, "0.75", "12", "12"]
    assert reward_fns.get("numeric", rel_tol=0.05)(preds, answer=truth) == [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    assert numeric([ans("100.0000001")], answer=["100"]) == [1.0]
    assert numeric([ans("100.01")], answer=["100"]) == [0.0]
    assert reward_fns.get("numeric", abs_tol=0.5)([ans("2.4")], answer=["2"]) == [1.0]


# --------------------------------------------------------------------------------------------------- multiple choice
@pytest.mark.parametrize("spelling", ["B", "(B)", "B.", "B) Paris", "B: Paris", "The answer is B", "Answer: (B)",
                                      "answer: b", "the correct option is B.", "b", "Paris"])
def test_multiple_choice_spellings(spelling):
    mc = reward_fns.get("multiple_choice")
    assert mc([ans(spelling)], answer=["B"], choices=[["Rome", "Paris", "Oslo"]]) == [1.0]
    assert mc([ans(spelling)], answer=["A"], choices=[["Rome", "Paris", "Oslo"]]) == [0.0]


def test_multiple_choice_truth_as_index_text_or_letter_and_out_of_range_letters():
    mc = reward_fns.get("multiple_choice")
    options = [["Rome", "Paris", "Oslo"]] * 4
    assert mc([ans("C")] * 3 + [ans("D")], answer=[2, "Oslo", "(C)", "D"], choices=options) == [1.0, 1.0, 1.0, 0.0]
    assert mc([ans("A cat"), ans("a")], answer=["A", "A"]) == [0.0, 1.0]


# ---------------------------------------------------------------------------------------------------- overlong (DAPO)
# Source: Yu et al., DAPO (arXiv:2503.14476), Eq. 13, with L_max = 20 and L_cache = 4.
@pytest.mark.parametrize("length, expected", [(0, 0.0), (16, 0.0), (17, -0.25), (18, -0.5), (20, -1.0), (25, -1.0)])
def test_overlong_penalty_follows_dapo(length, expected):
    penalty = reward_fns.get("overlong_penalty", max_length=20, cache_length=4)
    assert penalty(["x"], completion_ids=[[1] * length]) == [pytest.approx(expected)]


def test_overlong_penalty_takes_the_run_max_length_by_default():
    (fn,), _ = reward_fns.task_rewards(["overlong_penalty"], defaults={"max_length": 10})
    assert fn(["x", "y"], completion_ids=[[1] * 8, [1] * 10]) == [0.0, -1.0]


# ------------------------------------------------------------------------------------------- exact match and format
def test_exact_match_accepts_a_list_of_acceptable_answers():
    em = reward_fns.get("exact_match")
    assert em([ans("grey"), ans("gray"), ans("black")], answer=[["gray", "grey"]] * 3) == [1.0, 1.0, 0.0]


def _math_verify_alone(predicted: str, truth: str) -> bool:
    from math_verify import parse, verify

    def p(text: str):
        return parse(text if "$" in text or "\\boxed" in text else f"${text}$")

    return bool(verify(p(truth), p(predicted)))


@pytest.mark.parametrize("prediction, truth", [
    ("1234", "84x+27"), ("27+84x", "84x+27"), ("4", "\\sqrt{17}"), ("4.1231056", "\\sqrt{17}"), ("3", "\\dfrac{3}{4}"),
    ("0.75", "\\frac{3}{4}"), ("2", "2.0000001"), ("2", "2.01"), ("\\frac{6}{8}", "\\dfrac{3}{4}"), ("1", "x^0"),
    ("5", "(x+1)^2-x^2-2x+4"), ("-3", "\\sqrt{9}"), ("3", "\\sqrt{9}"), ("1,000", "1000"), ("7", "7"),
])
def test_math_shortcuts_decide_exactly_as_math_verify(prediction, truth):
    """Identical texts, plain numbers, identical parses, number vs polynomial / constant are decided before
    math-verify's symbolic comparison; each decision must be the one math-verify itself reaches."""
    from reward_fns.math_equivalence import equivalent

    assert equivalent(prediction, truth) == _math_verify_alone(prediction, truth)
