"""Reasoning-level portability: the reasoning-span mask (``rp_span``) and the ``prefix_transfer`` estimator.

Spans on hand-made token sequences (tag boundaries, tags split over tokens, truncated rollouts, no think block,
padding); the trainer's span mask on the tiny model's own tokenizer; ``prefix_transfer``'s continuations checked
against an independent greedy continuation by the anchor checkpoint; both estimators inside a real stream run.
"""

from __future__ import annotations

import pytest
import torch
from suite_recipes import EMBEDDED
from trl import get_peft_config

import reward_fns
from rdbcl.methods import TaskContext
from rdbcl.methods.rdbcl import RDBCLMethod
from rdbcl.models.generation import generate_answers
from rdbcl.models.loading import load_policy, load_processor
from rdbcl.rl.portability import PortabilityInputs, anchor_likelihood, prefix_transfer
from rdbcl.rl.reasoning_span import reasoning_prefix, span_range, span_token_mask
from rdbcl.run.loop import StreamRunner
from rdbcl.train import RecipeError, parse_args


# ------------------------------------------------------------------------------------------------- spans, by hand
TOKENS = ["<think>", "3", " +", " 4", "</think>", "<answer>", "7", "</answer>"]


@pytest.mark.parametrize("tokens, span, expected", [
    (TOKENS, "reasoning", [0, 1, 1, 1, 0, 0, 0, 0]),
    (TOKENS, "answer", [0, 0, 0, 0, 0, 0, 1, 0]),
    (TOKENS, "completion", [1, 1, 1, 1, 1, 1, 1, 1]),
    (["<th", "ink>", "3", " +", "</th", "ink>", "<answer>7</answer>"], "reasoning", [0, 0, 1, 1, 0, 0, 0]),
    (["<think>3", " + 4</", "think>"], "reasoning", [1, 1, 0]),           # content merged with the tags' tokens
    (["<think>", "3", " +", " 4"], "reasoning", [0, 1, 1, 1]),           # truncated: runs to the end
    (["<answer>", "7", "</answer>"], "reasoning", [0, 0, 0]),            # no think block: no reasoning
    (["<answer>", "1", "</answer>", "<answer>", "7", ""], "answer", [0, 0, 0, 0, 1, 0]),  # the last (graded) one
    (["<think>", "", "</think>"], "reasoning", [0, 0, 0]),               # empty content, padding-like tokens
    ([], "reasoning", []),
])
def test_span_token_mask_on_hand_made_tokens(tokens, span, expected):
    assert span_token_mask([tokens], span).tolist() == [[float(x) for x in expected]]


def test_span_ranges_and_reasoning_prefixes():
    text = "<think>abcdef</think><answer>x</answer>"
    assert span_range(text, "reasoning") == (7, 13) and text[7:13] == "abcdef"
    assert span_range(text, "answer") == (29, 30) and span_range("no tags", "answer") is None
    assert [reasoning_prefix(text, f) for f in (0.0, 0.5, 1.0)] == ["<think>", "<think>", "<think>abcdef"]
    # cut back to whole words, never ending in a space or half a word (a BPE tokenizer writes " cd" as one token)
    spaced = "<think>ab cd ef</think><answer>x</answer>"
    assert [reasoning_prefix(spaced, f) for f in (0.25, 0.5, 0.7, 1.0)] == [
        "<think>ab", "<think>ab", "<think>ab cd", "<think>ab cd ef"]
    assert reasoning_prefix("<think>ab cd", 0.5) == "<think>ab"  # truncated rollout: its reasoning so far
    assert reasoning_prefix("<think>  ab", 0.5) == "<think>"  # only space before the cut: nothing but the tag
    assert reasoning_prefix("<answer>x</answer>", 0.5) == ""  # no reasoning: the anchor starts afresh
    with pytest.raises(ValueError, match="rp_span"):
        span_range(text, "thoughts")


def test_prefix_transfer_is_the_groups_fraction_of_continuations_that_verify():
    inp = PortabilityInputs(ref_logps=torch.zeros(8, 2), mask=torch.ones(8, 2), rewards=torch.zeros(8),
                            num_generations=4, prefix_pass=torch.tensor([1, 0, 0, 0, 1, 1, 1, float("nan")]))
    assert prefix_transfer(inp).tolist() == [0.25, 0.75]  # NaN (unscorable) counts as not verified
    with pytest.raises(ValueError, match="prefix_pass"):
        prefix_transfer(PortabilityInputs(torch.zeros(4, 1), torch.ones(4, 1), torch.zeros(4), 4))


def test_rp_span_and_prefix_fraction_are_checked_at_parse_time():
    with pytest.raises(RecipeError, match="rp_span"):
        parse_args([*EMBEDDED, "--method", "rdbcl", "--max_steps", "1", "--rp_span", "thoughts"])
    with pytest.raises(RecipeError, match="rp_prefix_fraction"):
        parse_args([*EMBEDDED, "--method", "rdbcl", "--max_steps", "1", "--rp_prefix_fraction", "1.5"])


# ----------------------------------------------------------------------------------------- inside the trainer
def _trainer(tmp_path, tiny_model_path, stream, *extra):
    _, args, model_args = parse_args([
        *EMBEDDED, "--method", "rdbcl", "--max_steps", "1", "--per_device_train_batch_size", "8",
        "--num_generations", "4",
        "--max_completion_length", "8", "--output_dir", str(tmp_path / "run"), *extra])
    ctx = TaskContext(index=0, task=stream.tasks[0], stream=stream, policy=load_policy(tiny_model_path, model_args),
                      anchor_path=tiny_model_path, processor=load_processor(tiny_model_path, model_args), args=args,
                      peft_config=get_peft_config(model_args), output_dir=tmp_path / "run" / "task0")
    trainer = RDBCLMethod().build_trainer(ctx)
    torch.manual_seed(0)
    with torch.no_grad():  # the policy differs from its anchor (the base checkpoint)
        for p in trainer.model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    trainer.model.train()  # a training step's statistics (rp_history)
    return trainer, ctx


COMPLETIONS = ["<think>three plus four</think><answer>7</answer>", "<think>four plus three</think><answer>7</answer>",
               "<answer>7</answer>", "<think>three plus"]


def _completion_batch(tokenizer, texts: list[str]) -> dict:
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    width = max(map(len, ids))
    return {"completion_ids": torch.tensor([row + [tokenizer.pad_token_id] * (width - len(row)) for row in ids]),
            "completion_mask": torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in ids])}


def test_trainer_span_mask_covers_exactly_the_span_text(tmp_path, tiny_model_path, two_task_stream):
    trainer, ctx = _trainer(tmp_path, tiny_model_path, two_task_stream, "--rp_span", "reasoning")
    tokenizer = ctx.processor.tokenizer
    out = _completion_batch(tokenizer, COMPLETIONS)
    for span, expected in (("reasoning", ["three plus four", "four plus three", "", "three plus"]),
                           ("answer", ["7", "7", "7", ""])):
        trainer.args.rp_span = span
        mask = trainer._span_mask(out)
        assert mask.shape == out["completion_ids"].shape and not (mask.bool() & ~out["completion_mask"].bool()).any()
        covered = [tokenizer.decode(row[m.bool()].tolist()) for row, m in zip(out["completion_ids"], mask,
                                                                              strict=True)]
        assert [c.strip() for c in covered] == expected, span


def test_prefix_transfer_continues_each_rollouts_reasoning_with_the_anchor(tmp_path, tiny_model_path,
                                                                          two_task_stream):
    trainer, ctx = _trainer(tmp_path, tiny_model_path, two_task_stream, "--rp_estimator", "prefix_transfer",
                            "--rp_prefix_fraction", "0.5")
    # A correctness check that the prefix decides: "three" is inside the first half of "three plus four" only.
    mentions_three = [1.0 if "three" in reward_fns.parsing.completion_text(c) else 0.0 for c in COMPLETIONS]
    assert mentions_three == [1.0, 1.0, 0.0, 1.0]

    def says_three(completions, **kwargs):
        return [1.0 if "three" in c else 0.0 for c in completions]

    trainer.reward_funcs = [says_three]
    trainer.correctness_index = 0
    rows = [two_task_stream.tasks[0].train[0]] * 4
    out = _completion_batch(ctx.processor.tokenizer, COMPLETIONS)
    passed = trainer._prefix_passes(rows, out)

    # the same continuations, greedily, by the anchor loaded on its own from its checkpoint
    prefixes = ["<think>three", "<think>four", "", "<think>three"]
    assert [reasoning_prefix(t, 0.5) for t in COMPLETIONS] == prefixes
    anchor = load_policy(tiny_model_path, parse_args([*EMBEDDED, "--max_steps", "1"])[2])
    continued = generate_answers(anchor, ctx.processor, [r["prompt"] for r in rows], [r["image"] for r in rows],
                                 trainer.max_completion_length, prefixes=prefixes)
    expected = [1.0 if "three" in p + c else 0.0 for p, c in zip(prefixes, continued, strict=True)]
    assert passed.tolist() == expected
    assert expected[0] == expected[3] == 1.0  # the kept half of the reasoning carries "three"

    cached = dict(trainer._prefix_cache)
    # the first and last rollouts share their prefix ("three"), so the anchor continued 3 distinct prefixes, once each
    assert len(cached) == 3 and trainer._prefix_passes(rows, out).tolist() == expected
    assert trainer._prefix_cache == cached  # nothing generated again for the same prompt and prefix


@pytest.mark.parametrize("extra", [["--rp_span", "reasoning"], ["--rp_estimator", "prefix_transfer"]],
                         ids=["reasoning-span", "prefix-transfer"])
def test_reasoning_level_estimators_in_a_real_step_and_stream(tmp_path, tiny_model_path, two_task_stream, extra):
    trainer, ctx = _trainer(tmp_path, tiny_model_path, two_task_stream, *extra)
    rows = [two_task_stream.tasks[0].train[i] for i in range(2) for _ in range(4)]
    out = trainer._generate_and_score_completions(rows)
    rp = trainer.rp_history[-1]["rp_values"]
    if "prefix_transfer" in extra:
        expected = trainer._prefix_passes(rows, out).view(2, 4).mean(-1)  # cached: the step's own verdicts
    else:
        expected = anchor_likelihood(PortabilityInputs(
            ref_logps=out["ref_per_token_logps"], mask=trainer._span_mask(out),
            rewards=trainer._rewards_per_func[:, 0], num_generations=4))
    assert rp == pytest.approx(expected.tolist())

    results = StreamRunner(*parse_args([
        *EMBEDDED, "--method", "rdbcl", "--max_steps", "2", "--warm_start_steps", "0",
        "--per_device_train_batch_size", "8",
        "--num_generations", "4", "--max_completion_length", "8", "--eval_batch_size", "8", "--logging_steps", "1",
        "--output_dir", str(tmp_path / "stream"), *extra]), stream=two_task_stream).run()
    assert results["complete"] and len(results["acc"]) == 2
    for task in results["tasks"]:
        summary = task["rdbcl"]["mean_over_steps"]
        assert 0.0 <= summary["rdbcl/rp/mean"] <= 1.0 and 0.0 <= summary["rdbcl/beta/mean"] <= 0.08
