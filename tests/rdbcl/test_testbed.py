"""The reasoning testbed end to end, in miniature: π₀ built by its real builder (a few steps), the digit_reasoning
stream trained by the real trainers with RL alone and with SFT on the reference solutions, and the portability
diagnostic over the finished run."""

import json
import math
import re
import shutil
from pathlib import Path

import pytest
from suite_recipes import RECIPES

import rdbcl.models.loading
from rdbcl.run.loop import StreamRunner
from rdbcl.run.run_dir import RunMismatchError
from rdbcl.testbed.portability_diagnostic import auroc, bootstrap_interval, diagnose, signal_quality, spearman
from rdbcl.train import parse_args


RL_RECIPE = str(RECIPES / "digit_reasoning" / "rl.yaml")


def _run(out, monkeypatch, mini_reasoning_base, *recipe_and_method):
    # no model given: the stream's own base (``reasoning``), here the miniature π₀
    monkeypatch.setitem(rdbcl.models.loading.EMBEDDED_MODELS, "reasoning", rdbcl.models.loading.EmbeddedModel(
        lambda: Path(mini_reasoning_base), lambda: (mini_reasoning_base, 0.0)))
    stream_args, args, model_args = parse_args([
        *recipe_and_method, "--n_train", "16", "--n_eval", "6",
        "--max_steps", "2", "--per_device_train_batch_size", "8", "--num_generations", "4",
        "--max_completion_length", "24", "--eval_batch_size", "6", "--eval_max_new_tokens", "24",
        "--logging_steps", "1", "--output_dir", str(out)])
    return StreamRunner(stream_args, args, model_args).run()


def test_rl_alone_on_the_stream_then_the_diagnostic(tmp_path, monkeypatch, mini_reasoning_base):
    results = _run(tmp_path / "grpo", monkeypatch, mini_reasoning_base, "--config", RL_RECIPE, "--method", "grpo")
    assert results["complete"] and results["model_args"]["resolved_model"] == mini_reasoning_base
    assert [t["name"] for t in results["stream"]["tasks"]] == ["sum", "difference", "product"]
    for info in results["tasks"]:  # RL alone: no warm-start phase, and GRPO really ran its steps
        assert info["warm_start_log"] == [] and info.get("after_warm_start") is None
        assert sum(1 for e in info["train_log"] if "rewards/exact_match/mean" in e) == 2

    report = diagnose(tmp_path / "grpo", rollouts=2, n_boot=50)
    assert [e["task"] for e in report["tasks"]] == ["sum", "difference", "product"]
    for k, entry in enumerate(report["tasks"]):
        assert set(entry["signals"]) == {"reasoning_likelihood", "prefix_transfer", "anchor_pass_rate",
                                         "answer_likelihood"}
        assert all(len(v) == 6 for v in entry["signals"].values()) and len(entry["solved"]) == 6
        likelihoods = entry["signals"]["reasoning_likelihood"] + entry["signals"]["answer_likelihood"]
        assert all(0.0 < v <= 1.0 for v in likelihoods)  # every reference solution has both spans
        assert all(v in (0.0, 0.5, 1.0) for v in entry["signals"]["anchor_pass_rate"])  # 2 rollouts
        assert ("retained" in entry["quality"]) == (k < 2)
        # the solved outcomes are the saved policy's own evaluation of that task
        assert 100 * sum(entry["solved"]) / 6 == pytest.approx(results["acc"][k][k])
    assert report["tasks"][-1]["solved"] == [s for s in report["tasks"][-1]["solved"]]
    written = json.loads((tmp_path / "grpo" / "portability_diagnostic.json").read_text())
    assert written["tasks"][0]["signals"] == report["tasks"][0]["signals"]
    assert "| sum | solved | reasoning_likelihood | reasoning |" in (
        tmp_path / "grpo" / "portability_diagnostic.md").read_text()
    assert (tmp_path / "grpo" / "portability_diagnostic.png").stat().st_size > 1000


def test_the_default_demo_is_rdbcl_on_this_stream(tmp_path, monkeypatch, mini_reasoning_base):
    results = _run(tmp_path / "default", monkeypatch, mini_reasoning_base)  # overrides alone: the default recipe
    assert results["complete"] and results["config"]["method"] == "rdbcl"
    assert results["model_args"]["resolved_model"] == mini_reasoning_base
    assert [t["name"] for t in results["stream"]["tasks"]] == ["sum", "difference", "product"]
    for info in results["tasks"]:  # RL alone, with one β per sample in the recipe's range [0, 0.08]
        assert info["warm_start_log"] == []
        betas = [s["rdbcl/beta/mean"] for s in info["rdbcl"]["steps"]]
        assert len(betas) == 2 and all(0.0 <= b <= 0.08 for b in betas)
    rows = [results["zero_shot"], *results["acc"]]  # π₀ before the stream, then after each task
    assert len(rows) == 4 and all(len(r) == 3 and all(0.0 <= x <= 100.0 for x in r) for r in rows)

    # π₀ rebuilt from another recipe (another cache path): the finished run is not reused as if it were this one's
    rebuilt = shutil.copytree(mini_reasoning_base, tmp_path / "rebuilt-base")
    expected = f"started from {re.escape(mini_reasoning_base)}, but .* now starts from {re.escape(str(rebuilt))}"
    with pytest.raises(RunMismatchError, match=expected):
        _run(tmp_path / "default", monkeypatch, str(rebuilt), "--resume", "true")
    assert json.loads((tmp_path / "default" / "results.json").read_text())["acc"] == results["acc"]


def test_sft_baseline_trains_on_the_reference_solutions(tmp_path, monkeypatch, mini_reasoning_base):
    results = _run(tmp_path / "seq_ft", monkeypatch, mini_reasoning_base, "--config", RL_RECIPE, "--method", "seq_ft")
    assert results["complete"]
    log = results["tasks"][0]["train_log"]
    assert sum(1 for e in log if "loss" in e) == 2 and all(math.isfinite(e["loss"]) for e in log if "loss" in e)


def test_auroc_and_spearman_on_hand_made_scores():
    assert auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75  # 3 of the 4 (positive, negative) pairs ordered
    assert auroc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]) == 0.5  # ties count one half
    assert auroc([0.1, 0.2], [1, 1]) is None and spearman([1, 1, 1], [0, 1, 0]) is None
    assert spearman([1, 2, 3, 4], [0, 0, 1, 1]) == pytest.approx(0.894427, abs=1e-6)


def test_bootstrap_interval_covers_the_estimate_and_shrinks_with_more_rows():
    signal = [i / 40 for i in range(40)]
    outcome = [int(i % 4 != 0 and i > 12) for i in range(40)]
    q = signal_quality(signal, outcome, n_boot=400)
    lo, hi = q["auroc_ci"]
    assert lo <= q["auroc"] <= hi and 0.5 < q["auroc"] <= 1.0
    wide = bootstrap_interval(auroc, signal[::4], outcome[::4], n_boot=400)
    assert wide is None or wide[1] - wide[0] > hi - lo
    assert bootstrap_interval(auroc, [0.1, 0.2, 0.3], [1, 1, 1]) is None


def test_an_unknown_embedded_base_is_refused_by_name():
    from trl import ModelConfig

    for where in (rdbcl.models.loading.resolve_model_path, rdbcl.models.loading.planned_model_path):
        with pytest.raises(ValueError, match=r"unknown embedded model 'nope'; choose one of \['reasoning', 'tiny'\]"):
            where(ModelConfig(), "nope")


def test_the_planned_start_is_where_the_built_base_lands(tiny_model_path):
    """What ``rdbcl-sweep`` checks a finished run against, computed without building anything."""
    from trl import ModelConfig

    assert rdbcl.models.loading.planned_model_path(ModelConfig(), "tiny") == tiny_model_path
    assert rdbcl.models.loading.planned_model_path(ModelConfig(model_name_or_path="org/model"), "tiny") == "org/model"


def test_reasoning_prefixes_are_token_prefixes_of_the_testbeds_solutions(mini_reasoning_base):
    """``prefix_transfer`` hands the anchor a prefix of a rollout's reasoning: with π₀'s own tokenizer it must
    tokenize as the start of the whole completion, or the anchor continues a token sequence it never wrote (a
    prefix cut at a character ended in a lone space token, and π₀ closed its reasoning there)."""
    from transformers import AutoTokenizer

    from rdbcl.rl.reasoning_span import reasoning_prefix
    from task_streams.digit_pairs import DIGITS, OPERATIONS, op_solution

    tokenizer = AutoTokenizer.from_pretrained(mini_reasoning_base)
    checked = 0
    for op in OPERATIONS:
        for a in DIGITS:
            for b in DIGITS:
                text = op_solution(op, a, b)[0]
                whole = tokenizer(text, add_special_tokens=False)["input_ids"]
                for fraction in (0.1, 0.25, 0.5, 0.75, 0.9):
                    prefix = reasoning_prefix(text, fraction)
                    ids = tokenizer(prefix, add_special_tokens=False)["input_ids"]
                    assert whole[:len(ids)] == ids, (text, fraction, prefix)
                    checked += 1
    assert checked == 5 * 25 * 5
    assert reasoning_prefix(op_solution("sum", 3, 5)[0], 0.5) == "<think>The digits are 3"
