"""The ``format`` reward, R1-style (DeepSeek-R1, arXiv:2501.12948 §2.2.2): one non-empty ``<think>`` block, then one
non-empty ``<answer>`` block, lower-case tags as the system prompts write them, only whitespace around."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reward_fns
from reward_fns import RewardSpec
from reward_fns.format import well_formed


# (completion, score with think="required", score with think="optional", why)
CASES = [
    ("<think>2+2 is 4</think><answer>4</answer>", 1.0, 1.0, "the canonical layout"),
    ("  <think>\nstep 1\nstep 2\n</think>\n\n<answer>\n4\n</answer>\n", 1.0, 1.0, "whitespace around and between"),
    ("<answer>4</answer>", 0.0, 1.0, "no think block: required by default, allowed when optional"),
    ("<think></think><answer>4</answer>", 0.0, 0.0, "an empty think block is not reasoning"),
    ("<think> \n\t</think><answer>4</answer>", 0.0, 0.0, "whitespace only is empty"),
    ("<think>x</think><answer></answer>", 0.0, 0.0, "an empty answer leaves nothing to grade"),
    ("<think>x</think><answer>  </answer>", 0.0, 0.0, "whitespace-only answer"),
    ("<THINK>x</THINK><answer>4</answer>", 0.0, 0.0, "upper-case tags are not the prompt's tags"),
    ("<think>x</think><ANSWER>4</ANSWER>", 0.0, 0.0, "upper-case answer tags"),
    ("<Think>x</Think><answer>4</answer>", 0.0, 0.0, "mixed case"),
    ("<think>x</think><answer>4</answer><answer>5</answer>", 0.0, 0.0, "two answers"),
    ("<think>x</think><think>y</think><answer>4</answer>", 0.0, 0.0, "two think blocks"),
    ("<think>a<think>b</think>c</think><answer>4</answer>", 0.0, 0.0, "nested think"),
    ("<think>x</think><answer><answer>4</answer></answer>", 0.0, 0.0, "nested answer"),
    ("<think>x</think><answer>4<ANSWER></answer>", 0.0, 0.0, "a stray tag of another case inside the answer"),
    ("<think>the answer is <answer>4</answer></think><answer>4</answer>", 0.0, 0.0, "answer tag inside think"),
    ("<answer>4</answer><think>x</think>", 0.0, 0.0, "think after the answer"),
    ("Sure! <think>x</think><answer>4</answer>", 0.0, 0.0, "text before the blocks"),
    ("<think>x</think> so <answer>4</answer>", 0.0, 0.0, "text between the blocks"),
    ("<think>x</think><answer>4</answer> Done.", 0.0, 0.0, "text after the blocks"),
    ("<think>x</think><answer>4", 0.0, 0.0, "truncated: no closing tag"),
    ("<think>x<answer>4</answer>", 0.0, 0.0, "unclosed think"),
    ("<think>x</think>", 0.0, 0.0, "no answer"),
    ("4", 0.0, 0.0, "no tags"),
    ("<think>if a < b then a<b> holds</think><answer>x <= 4</answer>", 1.0, 1.0, "other angle brackets are text"),
]


@pytest.mark.parametrize("completion, required, optional, why", CASES, ids=[c[3] for c in CASES])
def test_format_cases(completion, required, optional, why):
    assert reward_fns.get("format")([completion]) == [required]
    assert reward_fns.get("format", think="required")([completion]) == [required]
    assert reward_fns.get("format", think="optional")([completion]) == [optional]


def test_conversations_are_graded_on_the_last_assistant_turn():
    conversation = [{"role": "assistant", "content": [{"type": "text", "text": "<think>x</think><answer>4</answer>"}]}]
    assert reward_fns.get("format")([conversation, [{"role": "assistant", "content": "<answer>4</answer>"}]]) == \
        [1.0, 0.0]


def test_a_bad_think_value_fails_when_the_recipe_is_loaded():
    with pytest.raises(ValueError, match=r"rewards.colour\[1\]: format: think must be one of .*'sometimes'"):
        RewardSpec.checked({"name": "format", "params": {"think": "sometimes"}}, where="rewards.colour[1]")
    with pytest.raises(ValueError, match="think must be one of"):
        reward_fns.get("format", think=True)
    with pytest.raises(ValueError, match="think must be one of"):  # a direct call with a bad value, too
        reward_fns.get("format")(["<answer>4</answer>"], think="Optional")
    assert RewardSpec.checked({"name": "format", "params": {"think": "optional"}}).params == {"think": "optional"}


def test_answer_extraction_stays_lenient():
    """Format is strict; the accuracy rewards still grade an upper-case or think-less answer (decision: extraction
    is about what the model answered, the format reward about whether it kept the layout)."""
    em = reward_fns.get("exact_match")
    assert em(["<ANSWER>red</ANSWER>", "<answer>red</answer>"], answer=["red", "red"]) == [1.0, 1.0]


def test_long_adversarial_completions_stay_linear():
    import time

    text = "<think>" + "</think>" * 20_000 + "<answer>" * 20_000
    start = time.perf_counter()
    assert reward_fns.get("format")([text, "<think>" + "x" * 200_000 + "</think><answer>4</answer>"]) == [0.0, 1.0]
    assert time.perf_counter() - start < 1.0


# The definition as one regular expression (tempered spans that hold no think/answer tag of any case), to check the
# string scan against on generated layouts.
_TAG = r"(?i:</?(?:think|answer)>)"
_SPAN = rf"(?:(?!{_TAG}).)*(?!{_TAG})\S(?:(?!{_TAG}).)*"
DEFINITION = {think: re.compile(rf"\s*(?:<think>{_SPAN}</think>\s*){'?' if think == 'optional' else ''}"
                                rf"<answer>{_SPAN}</answer>\s*", re.DOTALL) for think in ("required", "optional")}
PIECES = st.sampled_from(["<think>", "</think>", "<answer>", "</answer>", "<THINK>", "</Answer>", "<think >", " ",
                          "\n", "x", "4", "<", ">", "/", "think", "answer", "\u200b", "\t"])


OUT = st.sampled_from(["", " ", "\n\t", "", " ", "x", "</think>"])
IN = st.sampled_from(["x", " 4 < 5 ", "\u200b", "x", "", " ", "</think>", "<Answer>"])
LAYOUT = st.tuples(OUT, st.sampled_from(["<think>", ""]), IN, st.sampled_from(["</think>", ""]), OUT,
                   st.just("<answer>"), IN, st.just("</answer>"), OUT).map("".join)  # near-valid layouts


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.lists(PIECES, max_size=12).map("".join), LAYOUT),
       think=st.sampled_from(["required", "optional"]))
def test_scan_matches_the_definition(text, think):
    assert well_formed(text, think) == bool(DEFINITION[think].fullmatch(text))
