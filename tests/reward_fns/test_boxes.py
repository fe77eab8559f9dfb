"""Grounding rewards: box parsing, coordinate frames and IoU, against values worked out by hand.

Source of every reference value: the box IoU of PASCAL VOC (Everingham et al., IJCV 2010, §4.4) used by RefCOCO
(Kazemzadeh et al. 2014; Mao et al. 2016; Yu et al. 2016): IoU(A, B) = area(A ∩ B) / area(A ∪ B), and grounding
accuracy = 1 when IoU ≥ 0.5. Box frames as the model families write them: Qwen2-VL corners in [0, 1000), Qwen2.5-VL
absolute pixels of the image it saw (Bai et al. 2025, §2.1 / its grounding prompt format), LLaVA / CoIN in [0, 1].
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reward_fns
from reward_fns.boxes import MAX_COORD, MAX_TEXT, box_iou, frame_iou, parse_box, to_unit_box
from task_streams.spec import StreamSpecError, load_stream_spec


def ans(text: str) -> str:
    return f"<think>look</think><answer>{text}</answer>"


iou, accuracy = reward_fns.get("iou"), reward_fns.get("grounding_accuracy")


# ------------------------------------------------------------------------------------------- the frame rule (bug)
def test_pixel_truth_identical_to_prediction_scores_one():
    # On main both were read as norm1 and clipped to [0, 1]: (1, 1, 1, 1), zero area, IoU 0.
    truth = [[10, 20, 110, 220]]  # RefCOCO's own pixel boxes, as the annotation files hold them
    assert iou([ans("[10, 20, 110, 220]")], answer=truth) == [1.0]
    assert accuracy([ans("[10, 20, 110, 220]")], answer=truth) == [1.0]


def test_differing_pixel_boxes_score_their_iou_not_one():
    # A ∩ B = [60, 110] × [70, 220] = 50 · 150 = 7500; |A| = |B| = 100 · 200 = 20000; ∪ = 32500 → 3/13.
    # On main both clipped to (1, 1, 1, 1) → 0; and a box [5, 5, 300, 300] against it clipped to the whole image → 1.
    truth = [[10, 20, 110, 220]] * 2
    scores = iou([ans("[60, 70, 160, 270]"), ans("[5, 5, 300, 300]")], answer=truth)
    # [5, 5, 300, 300] ⊇ truth: IoU = |truth| / |pred| = 20000 / 295².
    assert scores == [pytest.approx(3 / 13), pytest.approx(20000 / 295 ** 2)]
    assert accuracy([ans("[60, 70, 160, 270]")], answer=truth[:1]) == [0.0]


def test_one_format_given_means_both_boxes_in_that_frame():
    # No conversion, hence no image size needed even for pixel boxes: 1.0 and 3/13 as above.
    truth = [[10, 20, 110, 220]] * 2
    completions = [ans("[10, 20, 110, 220]"), ans("[60, 70, 160, 270]")]
    assert iou(completions, answer=truth, box_format="pixel") == [1.0, pytest.approx(3 / 13)]
    assert iou(completions, answer=truth, answer_box_format="norm1000") == [1.0, pytest.approx(3 / 13)]
    assert iou(completions, answer=truth, box_format="pixel", answer_box_format="pixel") == [1.0,
                                                                                            pytest.approx(3 / 13)]


def test_norm1000_prediction_against_norm1_truth():
    # Qwen2-VL (100, 200), (600, 700) / 1000 = (0.1, 0.2, 0.6, 0.7); truth (0.3, 0.2, 0.8, 0.7).
    # ∩ = 0.3 · 0.5 = 0.15; |A| = |B| = 0.25; ∪ = 0.35 → 3/7.
    score = iou([ans("<|box_start|>(100,200),(600,700)<|box_end|>")], answer=[[0.3, 0.2, 0.8, 0.7]],
                box_format="norm1000", answer_box_format="norm1")
    assert score == [pytest.approx(3 / 7)]


def test_pixel_prediction_converted_with_the_image_size():
    # Qwen2.5-VL on a 256 × 128 image: (64, 0, 192, 96) → (0.25, 0, 0.75, 0.75); truth (0.5, 0.25, 1, 1) in norm1.
    # ∩ = 0.25 · 0.5 = 0.125; |A| = 0.5 · 0.75 = 0.375 = |B|; ∪ = 0.625 → 0.2.
    from PIL import Image

    qwen25 = '```json\n[{"bbox_2d": [64, 0, 192, 96], "label": "cat 2"}]\n```'
    truth = [[0.5, 0.25, 1.0, 1.0]]
    given_size = iou([ans(qwen25)], answer=truth, box_format="pixel", answer_box_format="norm1", image_size=[256, 128])
    row_image = iou([ans(qwen25)], answer=truth, box_format="pixel", answer_box_format="norm1",
                    image=[Image.new("RGB", (256, 128))])
    first_of_list = iou([ans(qwen25)], answer=truth, box_format="pixel", answer_box_format="norm1",
                        images=[[Image.new("RGB", (256, 128)), Image.new("RGB", (10, 10))]])
    assert given_size == row_image == first_of_list == [pytest.approx(0.2)]
    # The reverse: truth in pixels, prediction in norm1000 (x: 250/1000 · 256 = 64 …): the same two regions → 0.2.
    assert iou([ans("(250, 0), (750, 750)")], answer=[[128, 32, 256, 128]], box_format="norm1000",
               answer_box_format="pixel", image_size=[[256, 128]]) == [pytest.approx(0.2)]


def test_pixel_conversion_without_a_usable_size_scores_zero_per_row():
    truth = [[0.0, 0.0, 1.0, 1.0]] * 4
    sizes = [None, [0, 10], [float("nan"), 10], [256, 128]]
    scores = iou([ans("[0, 0, 256, 128]")] * 4, answer=truth, box_format="pixel", answer_box_format="norm1",
                 image_size=sizes)
    assert scores == [0.0, 0.0, 0.0, 1.0]


def test_nothing_is_clipped_so_the_score_does_not_depend_on_the_truth_frame():
    # Prediction (-32, 0, 32, 64) px spills off a 64 × 64 image. Same frame: truth (0, 0, 32, 64);
    # ∩ = 32 · 64 = 2048, |A| = 64 · 64 = 4096, |B| = 2048, ∪ = 4096 → 0.5. Truth stored as norm1 (0, 0, 0.5, 1):
    # prediction → (-0.5, 0, 0.5, 1), the same regions, 0.5 again (clipping would give 1.0 here and 0.5 there).
    same = iou([ans("[-32, 0, 32, 64]")], answer=[[0, 0, 32, 64]], box_format="pixel")
    converted = iou([ans("[-32, 0, 32, 64]")], answer=[[0, 0, 0.5, 1]], box_format="pixel",
                    answer_box_format="norm1", image_size=[64, 64])
    assert same == converted == [pytest.approx(0.5)]
    assert to_unit_box((-32, 0, 96, 64), "pixel", (64, 64)) == (-0.5, 0.0, 1.5, 1.0)


def test_formats_per_row_from_dataset_columns():
    # Row 0: norm1000 vs norm1, (0, 0, 500, 1000) → (0, 0, 0.5, 1) against (0, 0, 1, 1): 0.5.
    # Row 1: unset on both sides → as written: (0, 0, 500, 1000) vs (0, 0, 1000, 1000): 0.5 as well; row 2: 1.0.
    scores = iou([ans("[0, 0, 500, 1000]")] * 3, answer=[[0, 0, 1, 1], [0, 0, 1000, 1000], [0, 0, 500, 1000]],
                 box_format=["norm1000", None, "pixel"], answer_box_format=["norm1", None, None])
    assert scores == [0.5, 0.5, 1.0]


@pytest.mark.parametrize("threshold, expected", [(0.5, [1.0, 0.0]), (0.25, [1.0, 1.0]), (1.0, [0.0, 0.0])])
def test_accuracy_is_iou_at_or_above_the_threshold(threshold, expected):
    # (0, 0, 0.5, 1) vs the unit square: IoU 0.5 exactly; (0, 0, 0.3, 1): 0.3.
    scores = reward_fns.get("grounding_accuracy", threshold=threshold)(
        [ans("[0, 0, 0.5, 1]"), ans("[0, 0, 0.3, 1]")], answer=[[0, 0, 1, 1]] * 2)
    assert scores == expected


# ------------------------------------------------------------------------------------------------------ parsing
BOX = (10.0, 20.0, 110.0, 220.0)


@pytest.mark.parametrize("text", [
    "[10, 20, 110, 220]",
    "[10,20,110,220]",
    "[ 10 , 20 , 110 , 220 ]",
    "(10, 20, 110, 220)",
    "[10 20 110 220]",
    "(10,20),(110,220)",
    "(10, 20) (110, 220)",
    "[[10, 20], [110, 220]]",
    "from (10, 20) to (110, 220)",
    "<|box_start|>(10,20),(110,220)<|box_end|>",
    "<|object_ref_start|>dog 2<|object_ref_end|><|box_start|>(10,20),(110,220)<|box_end|>",
    "<ref>person 3</ref><box>(10,20),(110,220)</box>",
    '[{"bbox_2d": [10, 20, 110, 220], "label": "dog 2"}]',
    '```json\n[\n  {"bbox_2d": [10, 20, 110, 220], "label": "person 3"}\n]\n```',
    '[{"label": "person 3", "bbox_2d": [10, 20, 110, 220]}]',
    '{"x1": 10, "y1": 20, "x2": 110, "y2": 220}',
    '{"y2": 220, "x1": 10, "x2": 110, "y1": 20}',
    "{'xmin': 10, 'ymin': 20, 'xmax': 110, 'ymax': 220}",
    '{"x_min": 10, "y_min": 20, "x_max": 110, "y_max": 220}',
    "x1=10, y1=20, x2=110, y2=220",
    "left: 10, top: 20, right: 110, bottom: 220",
    "The dog is at [10, 20, 110, 220].",
    "object 1 at [10, 20, 110, 220]",
    "object 1 [10, 20, 110, 220]",
    "The box is 10 20 110 220.",
    "Coordinates: 10, 20, 110, 220",
    "[10.0, 20.00, 1.1e2, 2.2E+2]",
    "[10., 20., 110., 220.]",
    "[10, 20, 110, 220] is the bbox",
    "(x1, y1, x2, y2) = (10, 20, 110, 220)",
])
def test_each_spelling_parses_to_the_same_box(text):
    assert parse_box(text) == BOX
    assert iou([ans(text)], answer=[list(BOX)]) == [1.0]


@pytest.mark.parametrize("text, expected", [
    ("[-1.5, -2e1, 3., .5]", (-1.5, -20.0, 3.0, 0.5)),
    ("[\u221210, 20, 110, 220]", (-10.0, 20.0, 110.0, 220.0)),  # U+2212 minus
    ("[0.1, 0.2, 0.5, 0.9]", (0.1, 0.2, 0.5, 0.9)),
    ("+1 +2 +3 +4", (1.0, 2.0, 3.0, 4.0)),
])
def test_signs_floats_and_exponents(text, expected):
    assert parse_box(text) == expected


@pytest.mark.parametrize("value, expected", [
    ([10, 20, 110, 220], BOX), ((10.0, 20.0, 110.0, 220.0), BOX), (["10", "20", "110", "220"], BOX),
    ([[10, 20], [110, 220]], BOX), ({"bbox_2d": [10, 20, 110, 220], "label": "dog 2"}, BOX),
    ([{"bbox_2d": [10, 20, 110, 220]}, {"bbox_2d": [1, 2, 3, 4]}], BOX), ([{"bbox_2d": [10, 20, 110, 220]}] * 4, BOX),
    ({"x1": 10, "y1": 20, "x2": 110, "y2": 220}, BOX),
    ([True, 0, 1, 1], None), ([1, 2, 3], None), (None, None), (42, None), ([1, 2, "x", 4], None),
])
def test_ground_truth_objects(value, expected):
    assert parse_box(value) == expected


def test_arrays_parse_like_lists():
    np = pytest.importorskip("numpy")
    assert parse_box(np.array([10, 20, 110, 220])) == BOX
    assert parse_box(np.array([[10, 20], [110, 220]], dtype=np.float32)) == BOX


@pytest.mark.parametrize("text, expected", [
    # Digits of keys, labels, model names and versions are not coordinates.
    ('{"bbox_2d": [1, 2, 3, 4]}', (1.0, 2.0, 3.0, 4.0)),
    ('the bbox is {"label": "[9, 9, 9, 9]", "bbox_2d": [1, 2, 3, 4]}', (1.0, 2.0, 3.0, 4.0)),  # found by the fuzzer
    ('{"label": "[9, 9, 9, 9]", "bbox": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}}', (1.0, 2.0, 3.0, 4.0)),
    ('[{"label": "person 3 of 10 20", "bbox_2d": [1, 2, 3, 4]}]', (1.0, 2.0, 3.0, 4.0)),
    ('{"x1": 1, "y1": 2, "x2": 3, "y2": 4}', (1.0, 2.0, 3.0, 4.0)),
    ("object 1 at 5 6 7 8", (5.0, 6.0, 7.0, 8.0)),
    ("Qwen2-VL says [5, 6, 7, 8]", (5.0, 6.0, 7.0, 8.0)),
    ("v1.2.3 at 5 6 7 8", (5.0, 6.0, 7.0, 8.0)),
    ("in the 2d image 5 6 7 8", (5.0, 6.0, 7.0, 8.0)),
    # Ambiguous: a run of five bare numbers, a five-element list, x1..y2 without values, a key alone.
    ("person 3 10 20 110 220", None),
    ("[1, 2, 3, 4, 5]", None),
    ("x1 y1 x2 y2", None),
    ('{"bbox_2d": "none", "label": "dog 2"}', None),
    ("x1: 1, y1: 2, x2: 3", None),
    ("[1, 2, x, 4]", None),
    ("1.2.3.4", None),
])
def test_digits_in_keys_and_labels_are_not_coordinates(text, expected):
    assert parse_box(text) == expected


@pytest.mark.parametrize("text", [
    "[10, 20, 10, 220]",                  # zero width
    "[10, 20, 110, 20]",                  # zero height
    "[1e999, 0, 1, 1]",                   # overflows to inf
    "[nan, 0, 1, 1]", "[inf, 0, 1, 1]",
    "[0, 0, 1000001, 1]",                 # beyond MAX_COORD
    "[0, 0, 1e7, 1e7]",
    "[0, 0, " + "9" * 400 + ", 1]",
    "[0, 0, 1e-99999999, 1]",             # underflows to 0: zero width
])
def test_degenerate_absurd_or_overflowing_boxes_score_zero(text):
    # Even against a ground truth identical to what was written.
    truth = [[0, 0, 1, 1]]
    assert iou([ans(text)], answer=truth) == [0.0]
    assert iou([ans(text)], answer=[text]) == [0.0]
    assert accuracy([ans(text)], answer=truth, box_format="pixel", answer_box_format="norm1",
                    image_size=[64, 64]) == [0.0]


def test_degenerate_boxes_parse_but_absurd_ones_do_not():
    assert parse_box("[10, 20, 10, 220]") == (10.0, 20.0, 10.0, 220.0)  # written as a box; covers nothing
    assert parse_box(f"[0, 0, {MAX_COORD:.0f}, 1]") == (0.0, 0.0, MAX_COORD, 1.0)
    assert parse_box("[0, 0, 1000000.5, 1]") is None
    assert box_iou((0, 0, 0, 5), (0, 0, 0, 5)) == 0.0
    assert box_iou((0, 0, math.inf, 1), (0, 0, 1, 1)) == 0.0
    assert box_iou((0, 0, math.nan, 1), (0, 0, 1, 1)) == 0.0


def test_text_beyond_max_text_is_not_searched():
    assert parse_box(" " * (MAX_TEXT - 20) + "[1, 2, 3, 4]") == (1.0, 2.0, 3.0, 4.0)
    assert parse_box(" " * MAX_TEXT + "[1, 2, 3, 4]") is None


def test_hostile_long_inputs_stay_fast():
    """Catches catastrophic backtracking (a regex that is exponential or badly quadratic on 4 KB would take seconds
    to minutes here); the linear-time argument itself is in ``reward_fns/boxes.py``."""
    unit = ["(1, ", "[1, 2, ", "1 ", '"x1": 1, ', "(1,2)" + " a" * 40, "9", "1.", "-", "[", "( 1 ,  2 ) to ",
            "(1, 2)" + "," * 40, "bbox", "<|box_start|>(1,", "1e", "x1:", "[1 , 2 , 3 ,", " " * 50 + "1"]
    texts = [(u * (MAX_TEXT // len(u) + 1))[:MAX_TEXT] for u in unit]
    start = time.perf_counter()
    for text in texts:
        box = parse_box(text)
        assert box is None or len(box) == 4
    assert time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------------------- parse-time refusals
@pytest.mark.parametrize("params, match", [
    ({"box_format": "xywh"}, "box_format"),
    ({"answer_box_format": "pixels"}, "answer_box_format"),
    ({"box_format": ["pixel"]}, "box_format"),
    ({"image_size": [0, 10]}, "image_size"),
    ({"image_size": 448}, "image_size"),
])
def test_impossible_settings_fail_when_bound(params, match):
    for name in ("iou", "grounding_accuracy"):
        with pytest.raises(ValueError, match=match):
            reward_fns.get(name, **params)


@pytest.mark.parametrize("threshold", [0, 0.0, -0.5, 1.5, True, "0.5", float("nan")])
def test_threshold_outside_zero_one_is_refused(threshold):
    with pytest.raises(ValueError, match="threshold"):
        reward_fns.get("grounding_accuracy", threshold=threshold)


def test_sensible_settings_are_accepted():
    reward_fns.get("grounding_accuracy", threshold=1, box_format="pixel", answer_box_format="norm1",
                   image_size=[448, 448])
    reward_fns.get("iou", box_format="norm1000")
    reward_fns.RewardSpec.checked({"name": "iou", "params": {"box_format": "pixel", "answer_box_format": "norm1"}})


def test_recipe_with_an_unknown_format_names_where():
    with pytest.raises(ValueError, match=r"rewards\.grounding\[0\].*box_format must be one of"):
        reward_fns.RewardSpec.checked({"name": "iou", "params": {"box_format": "xyxy"}},
                                      where="rewards.grounding[0]")


def test_stream_file_with_a_bad_threshold_fails_to_load(tmp_path):
    stream = tmp_path / "s.yaml"
    stream.write_text("name: s\ntasks:\n  - name: grounding\n    format: llava\n    train: {path: t.json}\n"
                      "    eval: {path: e.json}\n    answer_type: box\n    rewards: [iou]\n"
                      "    metric: {name: grounding_accuracy, params: {threshold: 50}}\n")
    with pytest.raises(StreamSpecError, match=r"s\.yaml: tasks\[0\] \(grounding\)\.metric: threshold"):
        load_stream_spec(stream)


# ------------------------------------------------------------------------------------------------------ fuzzing
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NUMBER_TEXT = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(-MAX_COORD, MAX_COORD, allow_nan=False).map(repr),                           # 1e-05, -3.5, 0.0
    st.tuples(st.floats(-MAX_COORD, MAX_COORD), st.integers(0, 6)).map(lambda t: f"{t[0]:.{t[1]}f}"),
    st.floats(-MAX_COORD, MAX_COORD).map(lambda v: f"{v:e}"),                             # 1.234560e+02
)
WORDS = ["the", "dog", "left", "top", "is", "at", "object 1 at", "person 3 is", "Answer", "region", "\n", "é", "中",
         "the bbox is", "here:", "x", "2d", "v1.2", "ok!", "(see)"]
LETTER_WORDS = ["the", "dog", "is", "at", "region", "here", "é"]


def _spell(nums: list[str], kind: int, label: str, order: list[int], quote: str, sep: str) -> str:
    a, b, c, d = nums
    if kind == 0:
        return f"[{a}{sep}{b}{sep}{c}{sep}{d}]"
    if kind == 1:
        return f"({a},{b}),({c},{d})"
    if kind == 2:
        return f"<|box_start|>({a},{b}),({c},{d})<|box_end|>"
    if kind == 3:
        return f'[{{"bbox_2d": [{a}, {b}, {c}, {d}], "label": "{label}"}}]'
    if kind == 4:
        return f'{{"label": "{label}", "bbox_2d": [{a}, {b}, {c}, {d}]}}'
    if kind == 5:
        keys = ["x1", "y1", "x2", "y2"]
        return "{" + ", ".join(f"{quote}{keys[i]}{quote}: {nums[i]}" for i in order) + "}"
    if kind == 6:
        return f"{a} {b} {c} {d}"
    return f"[[{a}, {b}], [{c}, {d}]]"


@FUZZ
@given(nums=st.lists(NUMBER_TEXT, min_size=4, max_size=4), kind=st.integers(0, 7),
       label=st.sampled_from(["dog", "dog 2", "person 3 of 10 20", "x1 y2", "[1, 2, 3, 4]", ""]),
       order=st.permutations(range(4)), quote=st.sampled_from(['"', "'", ""]),
       sep=st.sampled_from([", ", ",", " , ", " "]),
       before=st.lists(st.sampled_from(WORDS), max_size=5), lead=st.sampled_from(LETTER_WORDS),
       after=st.lists(st.sampled_from(WORDS), max_size=5), tail=st.sampled_from(LETTER_WORDS + [".", ","]),
       wrap=st.booleans())
def test_any_spelling_inside_any_sentence_parses_back(nums, kind, label, order, quote, sep, before, lead, after,
                                                      tail, wrap):
    # Around the box: words (some with digits), ending / starting with a plain word so that a bare run of four
    # numbers stays four; the spelled box must come back exactly (float of each written number).
    text = " ".join([*before, lead]) + " " + _spell(nums, kind, label, order, quote, sep) + " " + " ".join(
        [tail, *after])
    expected = tuple(float(n) for n in nums)
    assert parse_box(text) == expected
    assert parse_box(ans(text) if wrap else text) == expected


def _exact_iou(a, b) -> Fraction:
    """The slow oracle: the IoU definition in exact rational arithmetic."""
    a, b = [tuple(Fraction(v) for v in box) for box in (a, b)]
    a = (min(a[0], a[2]), min(a[1], a[3]), max(a[0], a[2]), max(a[1], a[3]))
    b = (min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]))
    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
    if area_a == 0 or area_b == 0:
        return Fraction(0)
    inter = max(min(a[2], b[2]) - max(a[0], b[0]), 0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    return inter / (area_a + area_b - inter)


# Fixed-point coordinates (multiples of 2^-20 within ±MAX_COORD): exact as floats, and no area underflows.
COORD = st.integers(-10**6 * 2**20, 10**6 * 2**20).map(lambda k: k / 2**20)
SMALL = st.integers(-8, 8).map(float)  # coarse coordinates: many ties, touching edges and identical boxes
BOXES = st.one_of(st.tuples(COORD, COORD, COORD, COORD), st.tuples(SMALL, SMALL, SMALL, SMALL))


@FUZZ
@given(a=BOXES, b=BOXES)
def test_iou_matches_the_exact_oracle(a, b):
    expected = float(_exact_iou(a, b))
    got = box_iou(a, b)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert 0.0 <= got <= 1.0 and got == box_iou(b, a)
    text = f"<answer>[{a[0]!r}, {a[1]!r}, {a[2]!r}, {a[3]!r}]</answer>"
    assert iou([text], answer=[list(b)]) == [got]


PIXEL = st.integers(0, 4096).map(float)


@FUZZ
@given(a=st.tuples(PIXEL, PIXEL, PIXEL, PIXEL), b=st.tuples(PIXEL, PIXEL, PIXEL, PIXEL),
       size=st.tuples(st.integers(1, 4096), st.integers(1, 4096)))
def test_converting_frames_does_not_change_the_iou(a, b, size):
    # IoU is invariant under scaling each axis, and nothing is clipped: pixel-vs-pixel as written equals
    # pixel-vs-norm1 (the truth divided by the size) and norm1000-vs-pixel.
    expected = float(_exact_iou(a, b))
    w, h = size
    b_norm1 = (b[0] / w, b[1] / h, b[2] / w, b[3] / h)
    a_norm1000 = (a[0] / w * 1000, a[1] / h * 1000, a[2] / w * 1000, a[3] / h * 1000)
    assert frame_iou(a, b, "pixel") == pytest.approx(expected, abs=1e-12)
    assert frame_iou(a, b_norm1, "pixel", "norm1", size) == pytest.approx(expected, abs=1e-9)
    assert frame_iou(a_norm1000, b, "norm1000", "pixel", size) == pytest.approx(expected, abs=1e-9)


HOSTILE = st.lists(st.one_of(
    st.sampled_from(["[", "]", "(", ")", ",", " ", "-", "+", ".", "e", "E", ":", "=", "\n", "x1", "y2", "xmin",
                     "bbox_2d", '"bbox_2d": [', "<|box_start|>", "<|box_end|>", "<box>", "label", "1e999", "-1e999",
                     "nan", "inf", "9" * 400, "\u2212", "\x00", "\ufffd", "中", "٣", "𝟙", "0x1F", "1_000"]),
    st.integers(-10**30, 10**30).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=8)), max_size=60).map("".join)
OBJECTS = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
                       lambda inner: st.one_of(st.lists(inner, max_size=5),
                                               st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                       max_leaves=12)


@FUZZ
@given(text=st.one_of(HOSTILE, OBJECTS))
def test_hostile_input_never_raises_and_gives_a_sane_box_or_none(text):
    box = parse_box(text)
    assert box is None or (len(box) == 4 and all(isinstance(v, float) and abs(v) <= MAX_COORD for v in box))
    for fmt in (None, "norm1000", "pixel"):
        for score in iou([text, ans(str(text))], answer=[text, [0, 0, 1, 1]], box_format=fmt,
                         answer_box_format="norm1", image_size=[[64, 48], [1, 1]]):
            assert isinstance(score, float) and 0.0 <= score <= 1.0
