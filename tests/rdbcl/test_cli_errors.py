"""``rdbcl-train`` on input it cannot use: one line naming what is wrong, exit status 2, nothing written or lost.

A bad data row names its file, row and field; ``--skip_invalid true`` skips and counts it instead; a recipe that does
not parse, a local model path that is not there and an unreachable hub id each give one line too.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "task_streams"))
from coin_fixture import INSTRUCTIONS, write_coin  # noqa: E402
from suite_recipes import EMBEDDED  # noqa: E402

from rdbcl.train import USAGE_ERROR, cli  # noqa: E402


GQA_STREAM = """\
name: gqa_only
image_root: cl_dataset
tasks:
  - name: gqa
    format: llava
    train: {path: playground/Instructions_Original/GQA/train.json}
    eval: {path: playground/Instructions_Original/GQA/test.json}
"""
TINY_RUN = ["--warm_start_steps", "0", "--max_steps", "1", "--per_device_train_batch_size", "4",
            "--num_generations", "4", "--max_completion_length", "4", "--eval_max_new_tokens", "4",
            "--eval_batch_size", "4", "--logging_steps", "1"]


def _run_cli(monkeypatch, capsys, *argv: str) -> tuple[int | None, str]:
    monkeypatch.setattr(sys, "argv", ["rdbcl-train", *argv])
    code = 0
    try:
        cli()
    except SystemExit as done:
        code = done.code
    return code, capsys.readouterr().err


def _error_lines(err: str) -> list[str]:
    """The lines of stderr that are rdbcl's own (libraries may add warnings)."""
    return [line for line in err.splitlines() if line.startswith("rdbcl-train:")]


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def coin_with_bad_row(tmp_path) -> tuple[Path, Path]:
    """A CoIN copy whose GQA train file gains a row with an empty question (row 1), and a stream file over GQA."""
    root = write_coin(tmp_path / "coin")
    path = root / INSTRUCTIONS / "GQA" / "train.json"
    rows = json.loads(path.read_text())
    bad = {**rows[0], "id": "bad", "conversations": [{"from": "human", "value": "<image>\n  "},
                                                     {"from": "gpt", "value": "yes"}]}
    path.write_text(json.dumps([*rows, bad]))
    stream = tmp_path / "gqa.yaml"
    stream.write_text(GQA_STREAM)
    return root, stream


def test_bad_row_is_one_line_exit_2_and_skip_invalid_counts_it(tmp_path, monkeypatch, capsys, coin_with_bad_row,
                                                               tiny_model_path):
    root, stream = coin_with_bad_row
    out = tmp_path / "run"
    base = [*EMBEDDED, "--stream", str(stream), "--data_root", str(root),
            "--output_dir", str(out), *TINY_RUN]

    code, err = _run_cli(monkeypatch, capsys, *base)
    assert code == USAGE_ERROR == 2
    assert "Traceback" not in err
    [line] = _error_lines(err)
    assert line.startswith("rdbcl-train: data error: ")
    assert f"{INSTRUCTIONS}/GQA/train.json, row 1, field 'conversations': empty question" in line
    assert "--skip_invalid true" in line
    assert not out.exists()  # refused before the run directory was touched

    code, err = _run_cli(monkeypatch, capsys, *base, "--skip_invalid", "true")
    assert code == 0, err
    results = json.loads((out / "results.json").read_text())
    assert results["complete"] is True and len(results["acc"]) == 1
    assert results["stream"]["tasks"][0]["skipped_rows"] == {"train": 1}
    assert results["stream"]["tasks"][0]["n_train"] == 1  # the one good GQA train row
    assert results["stream_args"]["skip_invalid"] is True
    assert "| gqa | 1 | 0 |" in (out / "results.md").read_text()

    # the finished run's files survive a later command whose stream fails (another broken file, no skipping)
    before = _snapshot(out)
    (root / INSTRUCTIONS / "GQA" / "test.json").write_text("[{\"question_id\": 1, ")
    code, err = _run_cli(monkeypatch, capsys, *base, "--skip_invalid", "true")
    assert code == 2
    [line] = _error_lines(err)
    assert "GQA/test.json" in line and "not a readable JSON file" in line
    assert _snapshot(out) == before


@pytest.mark.parametrize("recipe, expected", [
    ("stream: embedded\nmax_steps: 2\nnot_a_field: 3\n", "not_a_field"),
    ("stream: [embedded\n", "is not valid YAML"),
    ("- just\n- a list\n", "must hold a mapping"),
    ("stream: embedded\nmax_steps: 2\nmethod: sgd\n", "method: unknown method 'sgd'"),
], ids=["unknown-field", "bad-yaml", "not-a-mapping", "bad-value"])
def test_bad_recipe_is_one_line_exit_2(tmp_path, monkeypatch, capsys, recipe, expected):
    path = tmp_path / "recipe.yaml"
    path.write_text(recipe)
    code, err = _run_cli(monkeypatch, capsys, "--config", str(path))
    assert code == 2 and "Traceback" not in err
    [line] = _error_lines(err)
    assert line.startswith("rdbcl-train: configuration error: ") and expected in line


def test_missing_recipe_and_missing_local_model_are_one_line_exit_2(tmp_path, monkeypatch, capsys):
    code, err = _run_cli(monkeypatch, capsys, "--config", str(tmp_path / "nope.yaml"))
    assert code == 2
    [line] = _error_lines(err)
    assert "cannot read the recipe" in line and "nope.yaml" in line

    missing = tmp_path / "models" / "my-vlm"
    code, err = _run_cli(monkeypatch, capsys, "--model_name_or_path", str(missing), "--output_dir",
                         str(tmp_path / "run"))
    assert code == 2
    [line] = _error_lines(err)
    assert line == (f"rdbcl-train: model error: model_name_or_path: local path {str(missing)!r} does not exist "
                    f"(looked for {missing})")
    assert not (tmp_path / "run").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = _run_cli(monkeypatch, capsys, "--model_name_or_path", str(empty))
    assert code == 2 and "holds no config.json" in _error_lines(err)[0]


def test_console_script_names_an_unreachable_hub_model_in_one_line(tmp_path):
    """The real console entry point, in its own process, with the hub unreachable (offline mode)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    done = subprocess.run([sys.executable, "-m", "rdbcl.train", "--model_name_or_path", "no-such-owner/no-such-model",
                           "--output_dir", str(tmp_path / "run")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    [line] = _error_lines(done.stderr)
    assert line.startswith("rdbcl-train: model error: model_name_or_path: no local directory "
                           "'no-such-owner/no-such-model', and the hub model could not be loaded")
    assert not (tmp_path / "run").exists()
