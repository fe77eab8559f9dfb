"""Recipe-level reward specs, per-task routing in mixed batches, error policy, custom and async rewards."""

from __future__ import annotations

import asyncio

import pytest
from suite_recipes import EMBEDDED
from trl.trainer.utils import is_async_callable

import reward_fns
from reward_fns import RewardError, RewardSpec, task_reward, task_rewards


MIXED = {"completions": ["<answer>red</answer>", "<answer>3</answer>", "<answer>blue</answer>"],
         "answer": ["red", "3", "red"], "task": ["colour", "digits", "colour"]}


def test_spec_forms_and_their_errors():
    assert RewardSpec.parse("exact_match") == RewardSpec("exact_match", 1.0, {})
    assert RewardSpec.parse({"name": "numeric", "weight": 2, "params": {"rel_tol": 0.05}}) == \
        RewardSpec("numeric", 2.0, {"rel_tol": 0.05})
    with pytest.raises(ValueError, match=r"rewards.colour\[1\].*unknown keys \['wieght'\]"):
        RewardSpec.parse({"name": "format", "wieght": 1}, where="rewards.colour[1]")
    with pytest.raises(ValueError, match="numeric weight"):
        RewardSpec.parse({"name": "format", "weight": "high"})
    with pytest.raises(TypeError, match="no parameter.*rel_tl"):
        RewardSpec.parse({"name": "numeric", "params": {"rel_tl": 0.1}}).function()


def test_each_sample_is_scored_only_by_its_own_tasks_rewards():
    colour, _ = task_rewards(["exact_match", {"name": "format", "weight": 0.5, "params": {"think": "optional"}}],
                             task="colour")
    digits, _ = task_rewards([{"name": "numeric", "params": {"abs_tol": 0.5}}], task="digits")
    columns = {k: v for k, v in MIXED.items() if k != "completions"}
    assert colour[0](MIXED["completions"], **columns) == [1.0, None, 0.0]
    assert colour[1](MIXED["completions"], **columns) == [1.0, None, 1.0]
    assert digits[0](MIXED["completions"], **columns) == [None, 1.0, None]
    assert [f.spec.weight for f in colour] == [1.0, 0.5]


def test_weights_and_qualified_names_for_shared_trainers():
    funcs, weights = task_rewards(["exact_match", {"name": "format", "weight": 0.2}], task="colour", qualify=True)
    assert [f.__name__ for f in funcs] == ["colour/exact_match", "colour/format"] and weights == [1.0, 0.2]
    with pytest.raises(ValueError, match="twice"):
        task_rewards(["format", "format"], task="colour")
    with pytest.raises(ValueError, match="no rewards"):
        task_rewards([], task="colour")


def _fragile(completions, answer, **kwargs):
    """Raises on completions that contain 'boom' (a buggy user reward)."""
    if any("boom" in str(c) for c in completions):
        raise ZeroDivisionError("division by zero")
    return [1.0] * len(completions)


def test_a_raising_reward_names_reward_task_and_sample(monkeypatch):
    monkeypatch.setitem(reward_fns.registry._REGISTRY, "fragile", _fragile)
    fn = task_reward("fragile", task="colour")
    with pytest.raises(RewardError, match=r"'fragile' of task 'colour' raised on sample 2 .*ZeroDivisionError.*boom"):
        fn(["ok", "ok", "boom!", "ok"], answer=["x"] * 4, task=["colour"] * 4)


def test_on_reward_error_zero_scores_zero_counts_and_logs(monkeypatch):
    monkeypatch.setitem(reward_fns.registry._REGISTRY, "fragile", _fragile)
    logged = []
    fn = task_reward("fragile", task="colour", on_error="zero")
    scores = fn(["ok", "boom", "boom", "ok", "boom"], answer=["x"] * 5, task=["colour"] * 4 + ["digits"],
                log_metric=lambda name, value: logged.append((name, value)))
    assert scores == [1.0, 0.0, 0.0, 1.0, None]
    assert fn.errors == 2 and logged[-1] == ("reward_errors/fragile", 2.0)


def test_a_reward_breaking_the_contract_is_an_error_even_with_zero(monkeypatch):
    monkeypatch.setitem(reward_fns.registry._REGISTRY, "short", lambda completions, **kw: [1.0])
    with pytest.raises(RewardError, match="returned 1 scores for 3 completions"):
        task_reward("short", on_error="zero")(["a", "b", "c"])


def test_custom_rewards_from_a_file_and_a_module_get_every_column(tmp_path):
    path = tmp_path / "my_rewards.py"
    path.write_text(
        "def length_match(completions, answer, trainer_state=None, difficulty=None, **kwargs):\n"
        "    return [float(len(c) == len(a)) * d for c, a, d in zip(completions, answer, difficulty)]\n")
    fn = task_reward(f"{path}:length_match", task="t")
    assert fn.__name__ == "length_match"
    assert fn(["ab", "abc"], answer=["xy", "xy"], difficulty=[2.0, 3.0], task=["t", "t"], trainer_state=None) == \
        [2.0, 0.0]
    assert task_reward("reward_fns.numeric:numeric")(["<answer>2</answer>"], answer=["2"]) == [1.0]


async def _async_match(completions, answer, **kwargs):
    await asyncio.sleep(0)
    return [float(c == a) for c, a in zip(completions, answer, strict=True)]


def test_async_rewards_stay_async_for_trl_and_are_awaited_at_eval(monkeypatch):
    monkeypatch.setitem(reward_fns.registry._REGISTRY, "async_match", _async_match)
    fn = task_reward("async_match", task="t")
    assert is_async_callable(fn)  # TRL runs it on its event loop beside the other async rewards
    assert not is_async_callable(task_reward("exact_match"))
    assert reward_fns.score(fn, completions=["a", "b", "c"], answer=["a", "x", "c"], task=["t", "t", "u"]) == \
        [1.0, 0.0, None]


def test_stream_reward_overrides_name_existing_tasks(two_task_stream):
    stream = two_task_stream.with_rewards({"colour": ["exact_match"], "*": [{"name": "format", "weight": 0.1}]})
    assert stream.tasks[0].rewards == ["exact_match"]
    assert stream.tasks[1].rewards == [{"name": "format", "weight": 0.1}]
    from task_streams.embedded import REWARDS

    assert two_task_stream.tasks[0].rewards == list(REWARDS)  # the original is untouched
    with pytest.raises(ValueError, match=r"no task named \['color'\].*\['colour', 'digit_0_4'\]"):
        two_task_stream.with_rewards({"color": ["exact_match"]})


def test_recipe_rewards_are_checked_before_anything_runs(tmp_path):
    from rdbcl.train import RecipeError, parse_args

    base = [*EMBEDDED, "--max_steps", "1", "--output_dir", str(tmp_path)]
    _, args, _ = parse_args([*base, "--rewards", '{colour: [exact_match, {name: format, weight: 0.2}]}',
                             "--on_reward_error", "zero"])
    assert args.rewards == {"colour": ["exact_match", {"name": "format", "weight": 0.2}]}
    for bad, message in [('{colour: [exact_mtch]}', "exact_mtch"), ("[exact_match]", "mapping"),
                         ('{colour: []}', "non-empty"), ('{colour: [{name: numeric, params: {tol: 1}}]}', "tol")]:
        with pytest.raises(RecipeError, match=message):
            parse_args([*base, "--rewards", bad])
    with pytest.raises(RecipeError, match="on_reward_error"):
        parse_args([*base, "--on_reward_error", "ignore"])
