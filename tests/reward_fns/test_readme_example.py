"""The README's "Write your own reward" example runs as written, registered by name and loaded by file path."""

from __future__ import annotations

import re
from pathlib import Path

import reward_fns


README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    section = README.read_text().split("### Write your own reward", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_reward_example_runs_registers_and_loads_by_path(tmp_path, monkeypatch):
    builtins = dict(reward_fns.registry._REGISTRY)
    monkeypatch.setattr(reward_fns.registry, "_REGISTRY", dict(builtins))
    code = _example()
    assert len(code.strip().splitlines()) <= 14
    exec(compile(code, "README.md", "exec"), {})  # its own assert checks the scores
    assert "colour_or_shade" in reward_fns.available()

    path = tmp_path / "my_rewards.py"
    path.write_text(code)
    monkeypatch.setattr(reward_fns.registry, "_REGISTRY", dict(builtins))  # loading the file registers it again
    fn = reward_fns.task_reward(f"{path}:colour_or_shade", task="colour")
    assert fn(["<answer>light red</answer>", "<answer>blue</answer>"], answer=["red", "red"],
              task=["colour", "digits"]) == [0.5, None]
