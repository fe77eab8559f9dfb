"""The ``cider`` reward against pycocoevalcap's own ``Cider().compute_score`` and a hand-computed CIDEr-D, with
corpus-level document frequencies, tokenisation, and untrusted model output."""

from __future__ import annotations

import math
import random
import shutil
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from reward_fns import get
from reward_fns.caption import cider, cider_d_scores, register_references, simple_tokenize


JAVA = shutil.which("java") is not None
WORDS = "a the dog cat man woman red blue runs sits on in grass street table ball car with two small".split()


def _corpus(seed: int, n: int) -> tuple[dict, dict]:
    rng = random.Random(seed)

    def caption() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))

    gts = {i: [f"{caption()} {seed}"] + [caption() for _ in range(rng.randint(0, 4))] for i in range(n)}
    return gts, {i: [caption()] for i in range(n)}


def test_equals_pycocoevalcap_on_a_registered_corpus():
    gts, res = _corpus(seed=1, n=60)  # lower-case words, no punctuation: both tokenisations leave them as they are
    corpus_score, per_image = Cider().compute_score(gts, res)
    register_references(gts.values())
    completions = [f"<think>…</think><answer>{res[i][0]}</answer>" for i in gts]
    scores = cider(completions, answer=list(gts.values()))
    assert scores == pytest.approx([s / 10 for s in per_image], abs=1e-12)
    assert sum(scores) / len(scores) == pytest.approx(corpus_score / 10, abs=1e-12)
    # a subsample is scored with the whole corpus's df: the same per-image values, not compute_score on the subset
    subset = list(gts)[:7]
    assert cider([completions[i] for i in subset], answer=[gts[i] for i in subset]) == scores[:7]
    assert Cider().compute_score({i: gts[i] for i in subset}, {i: res[i] for i in subset})[0] != \
        pytest.approx(sum(scores[:7]) / 7 * 10)


def test_unregistered_references_use_the_calls_own_corpus_like_compute_score(monkeypatch):
    import reward_fns.caption as caption

    gts, res = _corpus(seed=2, n=9)
    _, per_image = Cider().compute_score(gts, res)
    monkeypatch.setattr(caption, "_warned", False)
    with pytest.warns(UserWarning, match="per batch"):
        scores = cider_d_scores([res[i][0] for i in gts], list(gts.values()))
    assert scores == pytest.approx(list(per_image), abs=1e-12)


def test_hand_computed_cider_d():
    """Two images, references "a b" and "c d" (Vedantam et al. 2015, CIDEr-D as coco-caption computes it): N = 2, every
    n-gram in one image (df 1), idf = log 2 − log 1 = log 2.

    "a b" for image 1: the unigram and bigram vectors equal the reference's, cosine 1; no 3-/4-grams, their terms 0;
    lengths (bigram counts) equal, penalty 1. CIDEr-D = 10 · (1 + 1 + 0 + 0) / 4 = 5.
    "a c": unigrams (log 2, log 2) · (log 2, log 2) on the shared "a" only: log²2 / (√2 log 2)² = 1/2; the bigram
    "a c" is not in the reference. CIDEr-D = 10 · 0.5 / 4 = 1.25.
    """
    refs = [["a b"], ["c d"]]
    register_references(refs)
    assert cider(["<answer>a b</answer>", "<answer>a c</answer>"], answer=[refs[0], refs[0]]) == \
        pytest.approx([0.5, 0.125], abs=1e-12)
    gts = {1: ["a b"], 2: ["c d"]}
    assert Cider().compute_score(gts, {1: ["a c"], 2: ["c d"]})[1][0] == pytest.approx(1.25, abs=1e-12)


def test_a_single_image_corpus_scores_zero_as_pycocoevalcap_does():
    """log N = log 1 = 0 makes every idf ≤ 0 … 0: why per-sample scoring needs the corpus's statistics."""
    refs = [["a lonely reference caption"]]
    assert Cider().compute_score({0: refs[0]}, {0: refs[0]})[0] == 0.0
    register_references(refs)
    assert cider(["<answer>a lonely reference caption</answer>"], answer=refs) == [0.0]


@pytest.mark.skipif(not JAVA, reason="PTBTokenizer needs Java")
def test_simple_tokenizer_matches_ptb_on_captions():
    captions = ["A man's hand holding a can of Coca-Cola.", "It's a 12-oz. can of soup; it doesn't say...",
                "The screen of a laptop that says \"Windows is loading\".", "A box of cereal, with 'Cheerios' on it.",
                "A package of frozen food (chicken nuggets) on a counter.", "A $5 bill and 50% off coupon.",
                "The U.S. flag hanging on a wall.", "Can't tell what this is; maybe a remote?",
                "A bottle of Dr. Pepper on a table.", "A jar of peanut butter—creamy style.",
                "Two dogs' toys on the floor.", "A woman cannot find her keys", "café latte in a cup #1"]
    official = PTBTokenizer().tokenize({i: [{"caption": c}] for i, c in enumerate(captions)})
    assert [simple_tokenize(c) for c in captions] == [official[i][0] for i in range(len(captions))]


@pytest.mark.skipif(not JAVA, reason="PTBTokenizer needs Java")
def test_ptb_tokenizer_keeps_rows_aligned_on_hostile_output():
    refs = [["a red bus on a street"], ["a cat sleeping on a sofa"], ["two people walking a dog"]]
    register_references(refs)
    good = "<answer>a red bus on a street</answer>"
    alone = cider([good], answer=refs[:1], tokenizer="ptb")
    hostile = ["<answer>line\rbreak\x00 \u2028 sep</answer>", "<answer></answer>", good, "<answer>" + "é" * 50_000 +
               "</answer>", None]
    scores = cider(hostile, answer=[refs[1], refs[2], refs[0], refs[1], refs[2]], tokenizer="ptb")
    assert scores[2] == alone[0] > 0.5 and all(0.0 <= s <= 1.0 for s in scores) and scores[1] == scores[4] == 0.0


def test_unknown_tokenizer_fails_at_load_time():
    with pytest.raises(ValueError, match="tokenizer must be one of"):
        get("cider", tokenizer="nltk")


@pytest.mark.filterwarnings("ignore:cider. references not registered")
@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(), st.none(), st.integers(), st.lists(st.dictionaries(st.text(), st.text()))),
                min_size=1, max_size=5), st.text(min_size=1))
def test_never_raises_and_stays_in_unit_interval(completions, reference):
    scores = cider(completions, answer=[[reference, "a dog"]] * len(completions))
    assert len(scores) == len(completions) and all(0.0 <= s <= 1.0 and math.isfinite(s) for s in scores)


def test_huge_output_costs_bounded_time():
    register_references([["a dog on a beach"], ["a cat on a mat"]])
    start = time.perf_counter()
    scores = cider(["<answer>" + "dog " * 2_000_000 + "</answer>"], answer=[["a dog on a beach"]])
    assert scores == [0.0] and time.perf_counter() - start < 2.0
