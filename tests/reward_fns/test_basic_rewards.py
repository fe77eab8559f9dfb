"""The minimal rewards of the embedded stream: format and exact match."""

import reward_fns


def test_registry_resolves_builtins_and_dotted_paths(tmp_path):
    assert {"exact_match", "format"} <= set(reward_fns.available())
    assert reward_fns.get("exact_match").__name__ == "exact_match"
    assert reward_fns.get("reward_fns.format:format_reward")(["<think>y</think><answer>x</answer>"]) == [1.0]
    custom = tmp_path / "my_reward.py"
    custom.write_text("def always_half(completions, **kwargs):\n    return [0.5] * len(completions)\n")
    assert reward_fns.get(f"{custom}:always_half")(["a", "b"]) == [0.5, 0.5]


def test_unknown_reward_names_the_choices():
    import pytest

    with pytest.raises(KeyError, match="exact_match"):
        reward_fns.get("nope")


def test_exact_match_grades_answer_span_only():
    em = reward_fns.get("exact_match")
    completions = ["<think>it is red</think><answer>Red.</answer>", "red", "<answer>blue</answer>",
                   [{"role": "assistant", "content": "<answer>red</answer>"}], "<answer></answer>", ""]
    assert em(completions, answer=["red"] * 6) == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def test_format_requires_one_answer_block():
    fmt = reward_fns.get("format")
    completions = ["<answer>a</answer>", "<think>x</think> <answer>a</answer>", "<answer>a</answer><answer>b</answer>",
                   "a", "<think>x</think>", "<answer><answer>a</answer></answer>"]
    assert fmt(completions) == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]  # R1-style: the think block is required by default


def test_rewards_never_raise_on_garbage():
    garbage = [None, 123, "", "<answer>", "</answer><answer>", "\x00\uffff" * 50, [{"role": "assistant"}], [], {}]
    for name in ("exact_match", "format"):
        fn = reward_fns.get(name)
        kwargs = {"answer": ["x"] * len(garbage)} if name == "exact_match" else {}
        scores = fn(garbage, **kwargs)
        assert len(scores) == len(garbage) and all(s in (0.0, 1.0) for s in scores)
