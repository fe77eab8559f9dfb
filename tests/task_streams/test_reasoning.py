"""The reasoning-gym text stream: held-out items, verifiable answers, and a real end-to-end run with the trainer."""

from __future__ import annotations

import json

import pytest
from suite_recipes import EMBEDDED

from rdbcl.run.loop import StreamRunner
from rdbcl.train import parse_args
from task_streams import TaskStream, get_stream


@pytest.fixture(scope="module")
def reasoning():
    return get_stream("reasoning", n_train=24, n_eval=6)


def test_tasks_are_text_only_and_evaluation_is_held_out(reasoning):
    assert reasoning.names == ["arithmetic", "algebra", "logic"]
    for task in reasoning:
        assert "image" not in task.train.column_names
        assert [p["type"] for p in task.train[0]["prompt"][1]["content"]] == ["text"]
        questions = {p[1]["content"][0]["text"] for p in task.train["prompt"]}
        assert len(questions) == 24 and not questions & {p[1]["content"][0]["text"] for p in task.eval["prompt"]}


def test_each_task_scores_its_oracle_answer_1_and_a_wrong_one_0(reasoning):
    for task in reasoning:
        answers = list(task.eval["answer"])
        wrong = ["No" if a == "Yes" else "Yes" if a == "No" else str(float(a) + 1) for a in answers]
        completions = [f"<think>...</think><answer>{a}</answer>" for a in answers + wrong]
        columns = {"answer": answers + answers, "task": [task.name] * (2 * len(answers))}
        expected = [1.0] * len(answers) + [0.0] * len(answers)
        assert task.metric_function()(completions, **columns) == expected
        assert task.reward_functions()[0][0](completions, **columns) == expected


def test_reasoning_stream_runs_end_to_end_with_the_trainer(tmp_path, reasoning):
    stream = TaskStream("reasoning", reasoning.tasks[:2])
    stream_args, args, model_args = parse_args([
        *EMBEDDED, "--max_steps", "2", "--warm_start_steps", "2", "--per_device_train_batch_size", "8",
        "--num_generations", "4",
        "--max_completion_length", "8", "--eval_batch_size", "6", "--logging_steps", "1",
        "--output_dir", str(tmp_path / "run")])
    StreamRunner(stream_args, args, model_args, stream=stream).run()
    written = json.loads((tmp_path / "run" / "results.json").read_text())
    assert written["complete"] and [t["name"] for t in written["stream"]["tasks"]] == ["arithmetic", "algebra"]
    assert len(written["acc"]) == 2 and all(0.0 <= x <= 100.0 for row in written["acc"] for x in row)
    log = written["tasks"][1]["train_log"]
    assert sum("loss" in e for e in log) == 2 and any("rewards/numeric/mean" in e for e in log)
