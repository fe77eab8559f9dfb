"""End to end: the real stream loop, TRL trainers and tiny VLM on 2 tasks × a few steps, full FT and LoRA."""

import json

import pytest
from suite_recipes import EMBEDDED

from rdbcl.config import ContinualConfig, StreamArguments
from rdbcl.run.loop import StreamRunner
from rdbcl.run.metrics import summarize
from rdbcl.train import parse_args


def _run(tmp_path, stream, *extra):
    stream_args, args, model_args = parse_args([
        *EMBEDDED, "--max_steps", "2", "--warm_start_steps", "2", "--per_device_train_batch_size", "8",
        "--num_generations", "4", "--max_completion_length", "8", "--eval_batch_size", "8",
        "--logging_steps", "1", "--output_dir", str(tmp_path / "run"), *extra,
    ])
    assert isinstance(args, ContinualConfig) and isinstance(stream_args, StreamArguments)
    return StreamRunner(stream_args, args, model_args, stream=stream).run()


@pytest.mark.parametrize("peft", [False, True], ids=["full", "lora"])
def test_two_task_stream_writes_matrix_metrics_and_policies(tmp_path, two_task_stream, peft):
    extra = ["--use_peft", "true", "--lora_r", "8", "--lora_target_modules", "q_proj", "v_proj"] if peft else []
    results = _run(tmp_path, two_task_stream, "--report_to", "tensorboard", *extra)
    out = tmp_path / "run"

    written = json.loads((out / "results.json").read_text())
    acc = written["acc"]
    assert len(acc) == 2 and all(len(row) == 2 for row in acc)
    assert all(0.0 <= x <= 100.0 for row in acc for x in row)
    assert written["metrics"] == pytest.approx(summarize(acc))
    assert written["metrics"] == pytest.approx(results["metrics"])
    assert written["complete"] is True and len(written["zero_shot"]) == 2
    assert [t["name"] for t in written["stream"]["tasks"]] == ["colour", "digit_0_4"]
    assert written["tasks"][1]["before"] == acc[0][1]  # before training task 1 = after task 0
    assert written["model_args"]["use_peft"] is peft

    # both trainers really ran their steps, with the task's rewards logged by TRL
    task_log = written["tasks"][0]["train_log"]
    assert any("rewards/exact_match/mean" in entry for entry in task_log)
    assert sum(1 for entry in task_log if "loss" in entry) == 2
    assert any("loss" in entry for entry in written["tasks"][0]["warm_start_log"])
    assert any("kl" in entry for entry in task_log)

    # every task's policy is saved as a plain (merged) model that loads like a hub checkpoint
    for name in ("task0-colour", "task1-digit_0_4"):
        policy_dir = out / "policies" / name
        assert (policy_dir / "config.json").is_file() and (policy_dir / "model.safetensors").is_file()
        assert not (policy_dir / "adapter_config.json").exists()

    # TRL's loggers receive each task's curves under that task's directory (tensorboard here)
    for task_dir in ("task0-colour", "task1-digit_0_4"):
        assert list((out / "tasks" / task_dir).rglob("events.out.tfevents.*")), task_dir

    assert (out / "results.md").read_text().count("| colour |") >= 2
    assert (out / "accuracy_heatmap.png").stat().st_size > 1000
    assert {"model_build_s", "task0_train_s", "task1_eval_s", "total_s"} <= set(written["timings"])


def test_rdbcl_stream_reports_portability(tmp_path, two_task_stream):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    results = _run(tmp_path, two_task_stream, "--method", "rdbcl", "--beta_min", "0.01", "--beta_max", "0.1",
                   "--report_to", "tensorboard")
    out = tmp_path / "run"
    for k, task in enumerate(results["tasks"]):
        summary = task["rdbcl"]["mean_over_steps"]
        assert 0.01 <= summary["rdbcl/beta/mean"] <= 0.1 and 0.0 <= summary["rdbcl/rp/mean"] <= 1.0
        assert len(task["rdbcl"]["steps"]) == 2
        assert any("rdbcl/beta/mean" in entry for entry in task["train_log"])  # through TRL's metrics
        events = next((out / "tasks" / f"task{k}-{task['name']}" / "runs").iterdir())
        acc = EventAccumulator(str(events), size_guidance={"histograms": 0})
        acc.Reload()
        assert {"rdbcl/rp_hist", "rdbcl/beta_hist"} <= set(acc.Tags()["histograms"])
    assert (out / "rdbcl_portability.png").stat().st_size > 1000
    assert "Reasoning portability" in (out / "results.md").read_text()


def test_held_out_tasks_are_not_trained_and_report_zero_shot_degradation(tmp_path, two_task_stream):
    import dataclasses

    from task_streams import TaskStream

    colour, digits = two_task_stream.tasks
    stream = TaskStream("embedded", [colour, dataclasses.replace(digits, mode="eval_only")])
    results = _run(tmp_path, stream)
    assert [t["name"] for t in results["stream"]["tasks"]] == ["colour"] and len(results["acc"]) == 1
    assert [t["name"] for t in results["stream"]["held_out"]] == ["digit_0_4"]
    (held,) = results["held_out"]
    assert 0.0 <= held["before"] <= 100.0 and 0.0 <= held["after"] <= 100.0
    assert held["degradation"] == pytest.approx(held["before"] - held["after"])
    assert results["metrics"]["zero_shot_degradation"] == pytest.approx(held["degradation"])
    assert not (tmp_path / "run" / "policies" / "task1-digit_0_4").exists()
    assert "## Held-out tasks (%)" in (tmp_path / "run" / "results.md").read_text()
