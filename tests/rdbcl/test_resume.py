"""A real run killed with SIGKILL mid-task, during evaluation and during a policy save, continued by rerunning the
same command, ends with the same accuracy matrix and training curves as an uninterrupted run with the same seed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from suite_recipes import EMBEDDED


HERE = Path(__file__).parent
BUDGET = ["--n_train", "32", "--n_eval", "8", "--max_steps", "4", "--checkpoint_steps", "2", "--warm_start_steps", "2",
          "--warm_start_batch_size", "8", "--per_device_train_batch_size", "8", "--num_generations", "4",
          "--max_completion_length", "8", "--eval_batch_size", "8", "--logging_steps", "1"]
ARGS = [*EMBEDDED, "--method", "rdbcl", *BUDGET]


def _train(out: Path, *helper: str, args: list[str] = ARGS) -> subprocess.CompletedProcess:
    """``python -m rdbcl.train ARGS`` (or the interrupting helper around it), as a user would rerun it."""
    program = [*helper, "--"] if helper else ["-m", "rdbcl.train"]
    return subprocess.run([sys.executable, *program, *args, "--output_dir", str(out)], capture_output=True, text=True)


def _kill(out: Path, point: str, n: int, args: list[str] = ARGS) -> None:
    done = _train(out, str(HERE / "interrupt.py"), point, str(n), args=args)
    assert done.returncode == -9, done.stdout[-2000:] + done.stderr[-3000:]


def _curves(results: dict) -> list:
    keys = ("loss", "kl", "reward", "rdbcl/beta/mean", "rdbcl/rp/mean", "rapo/sigma_hat", "rapo/retention/mean")
    return [[{k: e[k] for k in keys if k in e} for e in t["train_log"] if "loss" in e] for t in results["tasks"]]


def test_killed_runs_continue_to_the_uninterrupted_result(tmp_path):
    reference = _train(tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr[-3000:]
    expected = json.loads((tmp_path / "reference" / "results.json").read_text())

    run = tmp_path / "run"
    _kill(run, "train", 7)  # task 1, before its 3rd step: its step-2 checkpoint is the resume point
    progress = json.loads((run / "results.json").read_text())
    assert len(progress["acc"]) == 1 and (run / "tasks" / "task1-digit_0_4" / "checkpoint-2").is_dir()
    task0 = (run / "policies" / "task0-colour" / "model.safetensors").stat().st_mtime_ns

    _kill(run, "eval", 3)  # continues task 1 from checkpoint-2, saves π_1, dies evaluating it
    assert (run / "policies" / "task1-digit_0_4" / "config.json").is_file()
    assert len(json.loads((run / "results.json").read_text())["acc"]) == 1

    _kill(run, "save", 1)  # evaluates π_1 without retraining it, trains task 2, dies half-way through saving π_2
    assert (run / "policies" / "task2-digit_5_9.partial").is_dir()
    assert not (run / "policies" / "task2-digit_5_9").exists()

    final = _train(run)
    assert final.returncode == 0, final.stderr[-3000:]
    resumed = json.loads((run / "results.json").read_text())
    assert resumed["complete"] and resumed["acc"] == expected["acc"] and resumed["zero_shot"] == expected["zero_shot"]
    assert resumed["acc"][0] == progress["acc"][0]  # rows computed before the kills are kept
    assert _curves(resumed) == _curves(expected)  # same losses, KL to the same anchors, same β
    assert (run / "policies" / "task0-colour" / "model.safetensors").stat().st_mtime_ns == task0  # not retrained
    assert not list(run.glob("tasks/*/checkpoint-*"))  # finished tasks drop their resume points

    again = _train(run)  # a complete run is not redone
    assert again.returncode == 0 and json.loads((run / "results.json").read_text())["acc"] == expected["acc"]


def test_rapo_continues_with_the_same_cross_task_spread(tmp_path):
    """CTAN's σ̂ lives in the method state across tasks and in the trainer checkpoint inside one."""
    args = [*EMBEDDED, *BUDGET, "--method", "rapo", "--n_train", "16", "--max_steps", "2", "--checkpoint_steps", "1"]
    reference = _train(tmp_path / "reference", args=args)
    assert reference.returncode == 0, reference.stderr[-3000:]
    expected = json.loads((tmp_path / "reference" / "results.json").read_text())

    _kill(tmp_path / "run", "train", 4, args=args)  # task 1 (retention on), after its step-1 checkpoint
    final = _train(tmp_path / "run", args=args)
    assert final.returncode == 0, final.stderr[-3000:]
    resumed = json.loads((tmp_path / "run" / "results.json").read_text())
    assert resumed["acc"] == expected["acc"] and _curves(resumed) == _curves(expected)
    assert [t["rapo"]["sigma_hat_end"] for t in resumed["tasks"]] == [t["rapo"]["sigma_hat_end"]
                                                                       for t in expected["tasks"]]
    spreads = [e["rapo/sigma_hat"] for t in resumed["tasks"][1:] for e in t["train_log"] if "rapo/sigma_hat" in e]
    assert len(set(spreads)) == 4  # the warm-started policy's rewards vary, so σ̂ moves at every step


def test_a_different_configuration_is_refused_with_the_differences(tmp_path):
    from rdbcl.run.loop import run_config
    from rdbcl.run.run_dir import RunDirectory
    from rdbcl.train import parse_args

    out = tmp_path / "run"
    argv = [*EMBEDDED, "--max_steps", "1", "--beta", "0.04", "--output_dir", str(out)]
    RunDirectory(out).claim(run_config(*parse_args(["--method", "grpo", *argv])), resume=True)  # an earlier run
    done = subprocess.run([sys.executable, "-m", "rdbcl.train", "--method", "rdbcl", *argv], capture_output=True,
                          text=True)
    assert done.returncode == 2
    message = done.stderr.strip().splitlines()[-1]
    assert "holds a run with a different configuration; refusing to continue it. Differences: config.method: " \
        "'grpo' in the run, 'rdbcl' now." in message
    assert RunDirectory(out).claim(run_config(*parse_args(["--method", "grpo", *argv, "--logging_steps", "3"])),
                                   resume=True)  # logging settings do not change what a run computes


def test_a_methods_cross_task_state_is_restored_when_a_run_continues(tmp_path, two_task_stream):
    import shutil

    import torch

    from rdbcl.methods import register_method
    from rdbcl.methods.base import _METHODS
    from rdbcl.methods.grpo import GRPOMethod
    from rdbcl.run.loop import StreamRunner
    from rdbcl.train import parse_args

    class Remembering(GRPOMethod):
        """GRPO that remembers the tasks it has seen (as a replay buffer or Fisher estimate would be)."""

        name = "remembering"

        def __init__(self):
            self.seen: list[str] = []

        def before_task(self, ctx):
            self.seen.append(ctx.task.name)

        def state_dict(self):
            return {"seen": list(self.seen), "weights": torch.ones(2)}

        def load_state_dict(self, state):
            self.seen = list(state["seen"])

    register_method(Remembering)
    try:
        out = tmp_path / "run"
        argv = [*EMBEDDED, "--method", "remembering", "--max_steps", "1", "--warm_start_steps", "0",
                "--num_generations", "4",
                "--per_device_train_batch_size", "8", "--max_completion_length", "4", "--eval_batch_size", "8",
                "--output_dir", str(out)]
        StreamRunner(*parse_args(argv), stream=two_task_stream).run()
        # as if the run had been killed while training task 1: its policy and row are gone
        results = json.loads((out / "results.json").read_text())
        results.update(acc=results["acc"][:1], complete=False)
        (out / "results.json").write_text(json.dumps(results))
        shutil.rmtree(out / "policies" / "task1-digit_0_4")
        runner = StreamRunner(*parse_args(argv), stream=two_task_stream)
        runner.run()
        assert runner.method.seen == ["colour", "digit_0_4"]  # task 0 restored from its saved state, then task 1
        saved = torch.load(out / "tasks" / "task1-digit_0_4" / "method_state.pt", weights_only=False)
        assert saved["seen"] == ["colour", "digit_0_4"] and torch.equal(saved["weights"], torch.ones(2))
    finally:
        _METHODS.pop("remembering", None)
