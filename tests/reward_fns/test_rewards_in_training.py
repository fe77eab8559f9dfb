"""Rewards inside the real trainer: a recipe names a user's reward file per task, errors are zeroed and counted."""

from __future__ import annotations

import json

from suite_recipes import EMBEDDED

from rdbcl.run.loop import StreamRunner
from rdbcl.train import parse_args
from task_streams import TaskStream


def test_recipe_reward_file_with_zeroed_errors_trains_and_reports(tmp_path, two_task_stream):
    rewards = tmp_path / "my_rewards.py"
    rewards.write_text(
        "def warm_colours(completions, answer, task, **kwargs):\n"
        '    """1 for a correct answer; raises on cool colours (a deliberately buggy user reward)."""\n'
        "    if any(a in ('blue', 'green', 'teal') for a in answer):\n"
        "        raise ValueError('cool colour')\n"
        "    return [float(c.strip().endswith(a + '</answer>')) for c, a in zip(completions, answer)]\n")
    spec = f"{{colour: [{{name: '{rewards}:warm_colours', weight: 1.0}}, {{name: format, weight: 0.5}}]}}"
    stream_args, args, model_args = parse_args([
        *EMBEDDED, "--max_steps", "3", "--warm_start_steps", "0", "--per_device_train_batch_size", "8",
        "--num_generations", "4",
        "--max_completion_length", "8", "--eval_batch_size", "8", "--logging_steps", "1", "--eval_before_stream",
        "false", "--output_dir", str(tmp_path / "run"), "--rewards", spec, "--on_reward_error", "zero"])
    stream = TaskStream("embedded", two_task_stream.tasks[:1])
    StreamRunner(stream_args, args, model_args, stream=stream).run()

    written = json.loads((tmp_path / "run" / "results.json").read_text())
    task = written["stream"]["tasks"][0]
    assert [r["name"] for r in task["rewards"]] == [f"{rewards}:warm_colours", "format"]
    assert [r["weight"] for r in task["rewards"]] == [1.0, 0.5]
    log = written["tasks"][0]["train_log"]
    assert sum("rewards/warm_colours/mean" in e for e in log) == 3 and any("rewards/format/mean" in e for e in log)
    errors = written["tasks"][0]["grpo"]["reward_errors"]["warm_colours"]
    assert errors > 0 and errors % 4 == 0  # every rollout (4 per prompt) of a cool-colour prompt scored 0
    assert any(e.get("reward_errors/warm_colours", 0) > 0 for e in log)
