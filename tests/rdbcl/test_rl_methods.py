"""The RL baselines beside ``grpo`` / ``rdbcl``: ``grpo_replay`` and ``rapo`` — their mechanisms with numbers, and
each end to end on the embedded stream with the real trainer."""

from __future__ import annotations

import json
import math

import pytest
import torch
from suite_recipes import EMBEDDED

from rdbcl.run.loop import StreamRunner
from rdbcl.train import parse_args


def _runner(tmp_path, stream, method, *extra) -> StreamRunner:
    argv = [*EMBEDDED, "--method", method, "--max_steps", "2", "--warm_start_steps", "0",
            "--per_device_train_batch_size", "8",
            "--num_generations", "4", "--max_completion_length", "8", "--eval_batch_size", "8",
            "--logging_steps", "1", "--output_dir", str(tmp_path / "run"), *extra]
    return StreamRunner(*parse_args(argv), stream=stream)


# ------------------------------------------------------------------------------------------------------- grpo_replay
def test_grpo_replay_mixes_earlier_prompts_scored_by_their_own_rewards(tmp_path, two_task_stream):
    from rdbcl.methods.base import TaskContext

    runner = _runner(tmp_path, two_task_stream, "grpo_replay", "--replay_ratio", "0.25", "--replay_buffer_size",
                     "32")
    results = runner.run()
    method = runner.method
    assert len(method.buffer) == 32 and {t for t, _ in method.buffer.slots} == {"colour", "digit_0_4"}

    # the second task's prompts: 64 of its own plus a quarter replayed from the first task's buffer
    first, second = two_task_stream.tasks
    method.buffer.slots = [s for s in method.buffer.slots if s[0] == "colour"]
    method.buffer.datasets.pop("digit_0_4")
    ctx = TaskContext(1, second, two_task_stream, None, tmp_path, None, runner.args, None, tmp_path)
    rows = method.train_dataset(ctx)
    assert len(rows) == 64 + round(0.25 * 64 / 0.75) and rows["task"].count("colour") == 21

    # one reward per (task, reward), each scoring only its own task's samples
    funcs, weights = method.reward_functions(ctx)
    expected = [(f"{t.name}/{f.__name__}", w) for t in (first, second)
                for f, w in zip(*t.reward_functions(), strict=True)]
    assert [(f.__name__, w) for f, w in zip(funcs, weights, strict=True)] == expected
    assert len(funcs) == 2 * len(first.rewards)
    funcs = [f for f in funcs if f.__name__.endswith("/exact_match")]
    completions = [f"<answer>{first.train[0]['answer']}</answer>", f"<answer>{second.train[0]['answer']}</answer>"]
    kwargs = {"task": ["colour", "digit_0_4"], "answer": [first.train[0]["answer"], second.train[0]["answer"]]}
    assert funcs[0](prompts=["p", "p"], completions=completions, **kwargs) == [1.0, None]
    assert funcs[1](prompts=["p", "p"], completions=completions, **kwargs) == [None, 1.0]

    # in the real run, the second task's batches carried the first task's prompts and scored them
    log = results["tasks"][1]["train_log"]
    replayed = [e["rewards/colour/exact_match/mean"] for e in log if "rewards/colour/exact_match/mean" in e]
    assert replayed and any(not math.isnan(v) for v in replayed)
    assert json.loads((tmp_path / "run" / "results.json").read_text())["complete"]


# -------------------------------------------------------------------------------------------------------------- RaPO
def test_drift_is_the_one_sided_mean_log_ratio_over_completion_tokens():

    from rdbcl.rl.retention import trajectory_drift

    policy = torch.tensor([[-1.0, -1.0, -1.0], [-0.2, -0.4, -5.0], [-2.0, -2.0, -2.0]])
    anchor = torch.tensor([[-2.0, -1.5, -1.0], [-1.2, -0.4, -0.1], [-1.0, -1.0, -1.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 1, 1]])
    # row 0: (1 + 0.5 + 0) / 3; row 1: the padded token is ignored, (1 + 0) / 2; row 2: −1 on average, clipped to 0
    assert trajectory_drift(policy, anchor, mask).tolist() == pytest.approx([0.5, 0.5, 0.0])


def test_retention_reward_decays_exponentially_with_drift():

    from rdbcl.rl.retention import retention_reward

    assert retention_reward(torch.tensor([0.0, 0.05, 0.5]), alpha=20.0).tolist() == pytest.approx(
        [1.0, math.exp(-1.0), math.exp(-10.0)])


def test_ctan_divides_group_centred_rewards_by_a_bias_corrected_running_spread():

    from rdbcl.rl.retention import CrossTaskNormalizer

    ctan = CrossTaskNormalizer(decay=0.9, eps=0.0)
    # step 1: groups [1, 0] and [1, 1]; batch std (Bessel) of [1, 0, 1, 1] = 0.5; σ̂ = 0.1·0.5 / (1 − 0.9) = 0.5
    adv, sigma, sigma_batch = ctan.advantages(torch.tensor([1.0, 0.0, 1.0, 1.0]), group_size=2)
    assert (sigma_batch, sigma) == pytest.approx((0.5, 0.5))
    assert adv.tolist() == pytest.approx([1.0, -1.0, 0.0, 0.0])
    # step 2: batch std of [2, 0, 0, 0] = 1; m = 0.9·0.05 + 0.1·1 = 0.145; σ̂ = 0.145 / (1 − 0.81)
    adv, sigma, sigma_batch = ctan.advantages(torch.tensor([2.0, 0.0, 0.0, 0.0]), group_size=2)
    assert (sigma_batch, sigma) == pytest.approx((1.0, 0.145 / 0.19))
    assert adv.tolist() == pytest.approx([0.19 / 0.145, -0.19 / 0.145, 0.0, 0.0])
    # evaluation batches read σ̂ without moving it
    _, sigma_eval, _ = ctan.advantages(torch.tensor([5.0, 0.0, 0.0, 0.0]), group_size=2, update=False)
    assert sigma_eval == pytest.approx(0.145 / 0.19) and ctan.steps == 2


def test_ctan_keeps_a_tied_groups_retention_bonus_small_where_group_std_would_inflate_it():

    from rdbcl.rl.retention import CrossTaskNormalizer, retention_reward

    task = torch.tensor([1.0, 1.0, 0.0, 1.0])  # group 0 ties on the task reward; group 1 does not
    bonus = 0.5 * retention_reward(torch.tensor([0.0, 0.05, 0.0, 0.0]), alpha=20.0)
    total = task + bonus
    adv, sigma, _ = CrossTaskNormalizer(decay=0.999, eps=0.0).advantages(total, group_size=2)
    gap = 0.5 * (1.0 - math.exp(-1.0))  # the bonus difference inside group 0
    assert sigma == pytest.approx(total.std().item())
    assert adv[:2].tolist() == pytest.approx([gap / 2 / sigma, -gap / 2 / sigma])
    group_std = total[:2].std().item()  # stock GRPO would scale the same gap to ±0.707 of a full advantage
    assert abs(adv[0].item()) < 0.5 * (gap / 2 / group_std)


def test_ctan_leaves_unscorable_rows_out_and_carries_its_state_across_tasks():

    from rdbcl.rl.retention import CrossTaskNormalizer

    ctan = CrossTaskNormalizer(decay=0.5, eps=0.0)
    adv, _, sigma_batch = ctan.advantages(torch.tensor([1.0, float("nan"), 0.0, 2.0]), group_size=2)
    assert sigma_batch == pytest.approx(1.0) and adv[:2].tolist() == [0.0, 0.0]  # a lone scored row: centred to 0
    carried = CrossTaskNormalizer(decay=0.5, eps=0.0)
    carried.load_state_dict(ctan.state_dict())
    rewards = torch.tensor([3.0, 0.0, 1.0, 1.0])
    assert carried.advantages(rewards, 2)[0].tolist() == ctan.advantages(rewards, 2)[0].tolist()
    assert carried.sigma == ctan.sigma == pytest.approx((0.25 * 1.0 + 0.5 * rewards.std().item()) / 0.75)


def test_rapo_trainer_advantages_equal_the_hand_assembled_ones(tmp_path, tiny_model_path, two_task_stream):
    from trl import get_peft_config

    from rdbcl.methods import TaskContext
    from rdbcl.methods.rapo import RaPOMethod
    from rdbcl.models.loading import load_policy, load_processor
    from rdbcl.rl.retention import CrossTaskNormalizer

    _, args, model_args = parse_args([
        *EMBEDDED, "--method", "rapo", "--max_steps", "1", "--per_device_train_batch_size", "8", "--num_generations",
        "4",
        "--max_completion_length", "6", "--rapo_alpha", "5", "--output_dir", str(tmp_path / "run")])
    task = two_task_stream.tasks[1]
    ctx = TaskContext(index=1, task=task, stream=two_task_stream, policy=load_policy(tiny_model_path, model_args),
                      anchor_path=tiny_model_path, processor=load_processor(tiny_model_path, model_args), args=args,
                      peft_config=get_peft_config(model_args), output_dir=tmp_path / "run" / "task1")
    method = RaPOMethod()
    method.normalizer = CrossTaskNormalizer(decay=0.9)
    method.normalizer.update(0.3)  # σ̂ carried over from an earlier task
    trainer = method.build_trainer(ctx)
    torch.manual_seed(0)
    with torch.no_grad():  # move the policy away from its anchor, so that rollouts drift
        for p in trainer.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    trainer.current_gradient_accumulation_steps = 1
    trainer.model.train()
    rows = [task.train[i] for i in range(2) for _ in range(4)]
    out = trainer._generate_and_score_completions(rows)

    policy = trainer._policy_logps({k: v for k, v in out.items() if k != "old_per_token_logps"})
    drift = ((policy - out["ref_per_token_logps"]) * out["completion_mask"]).sum(1) / out["completion_mask"].sum(1)
    drift = drift.clamp(min=0)
    assert drift.max() > 0.01  # the moved policy really drifted
    weights = trainer.reward_weights
    total = (trainer._rewards_per_func * weights).nansum(1) + 0.5 * torch.exp(-5.0 * drift)
    sigma = (0.9 * 0.1 * 0.3 + 0.1 * total.std().item()) / (1 - 0.81)
    expected = (total.view(2, 4) - total.view(2, 4).mean(1, keepdim=True)).view(-1) / (sigma + 1e-4)
    assert out["advantages"].tolist() == pytest.approx(expected.tolist(), abs=1e-5)
    assert trainer._metrics["train"]["rapo/drift/mean"][-1] == pytest.approx(drift.mean().item(), abs=1e-6)
    assert method.normalizer.steps == 2 and trainer.normalizer is method.normalizer


def test_rapo_runs_end_to_end_and_carries_its_spread_to_the_next_task(tmp_path, two_task_stream):
    runner = _runner(tmp_path, two_task_stream, "rapo", "--warm_start_steps", "2")
    results = runner.run()
    first, second = (t["rapo"] for t in results["tasks"])
    assert "rapo/drift/mean" not in first["mean_over_steps"]  # the first task has no retention reward
    # the warm-start moved the policy off its anchor π_1: rollouts drift, the bonus is below 1
    assert second["mean_over_steps"]["rapo/drift/mean"] > 0
    assert 0.0 < second["mean_over_steps"]["rapo/retention/mean"] < 1.0
    assert [s["step"] for s in second["steps"]] == [0, 1]
    assert runner.method.normalizer.steps == 4  # two steps per task, one σ̂ across both
    assert math.isfinite(second["sigma_hat_end"])
    assert (tmp_path / "run" / "tasks" / "task1-digit_0_4" / "method_state.pt").is_file()


@pytest.mark.parametrize("override, message", [
    (["--beta", "0"], "beta: rapo measures each rollout's drift"),
    (["--multi_objective_aggregation", "normalize_then_sum"], "multi_objective_aggregation: rapo adds"),
])
def test_rapo_refuses_settings_it_cannot_honour_with_a_clear_message(override, message):
    from rdbcl.train import RecipeError

    with pytest.raises(RecipeError, match=message):
        parse_args([*EMBEDDED, "--method", "rapo", "--max_steps", "1", *override])
