"""Every recipe parses into the dataclasses; bad recipes fail before training with a message naming the field."""

from pathlib import Path

import pytest
import torch
import yaml

from rdbcl.run.recipe import DEFAULT_RECIPE, RecipeError, parse_args
from rdbcl.train import main


RECIPES = sorted((Path(__file__).resolve().parents[1] / "launch" / "recipes").rglob("*.yaml"))


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_every_recipe_parses(recipe):
    raw = yaml.safe_load(recipe.read_text())
    # GPU recipes ask for bf16, which transformers refuses on a CPU-only machine: parse them with it off here.
    overrides = ["--bf16", "false"] if raw.get("bf16") and not torch.cuda.is_available() else []
    stream_args, args, model_args = parse_args(["--config", str(recipe), *overrides])
    assert stream_args.stream == raw["stream"]
    assert args.method == raw["method"] and args.max_steps == raw["max_steps"]


def test_no_arguments_means_the_default_recipe():
    stream_args, args, model_args = parse_args([])
    assert DEFAULT_RECIPE.name == "default.yaml"
    # the default demo: RDB-CL, RL alone, on the reasoning testbed from its pretrained π₀
    assert (stream_args.stream, args.method, args.warm_start_steps) == ("digit_reasoning", "rdbcl", 0)
    assert model_args.model_name_or_path is None  # the stream's own embedded base
    assert args.bf16 is False and (args.beta_min, args.beta_max, args.seed) == (0.0, 0.08, 0)


def test_cli_overrides_the_recipe():
    _, args, _ = parse_args(["--config", str(DEFAULT_RECIPE), "--max_steps", "7", "--beta", "0.5"])
    assert args.max_steps == 7 and args.beta == 0.5
    stream_args, args, _ = parse_args(["--max_steps", "3"])  # overrides alone apply on top of the default recipe
    assert args.max_steps == 3 and (stream_args.stream, args.method) == ("digit_reasoning", "rdbcl")


_DROP = object()


def _bad_recipe(tmp_path, **changes):
    raw = yaml.safe_load(DEFAULT_RECIPE.read_text())
    for key, value in changes.items():
        if value is _DROP:
            raw.pop(key)
        else:
            raw[key] = value
    raw["output_dir"] = str(tmp_path / "run")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path



@pytest.mark.parametrize("changes, field_name", [
    ({"method": "sgd_magic"}, "method"),
    ({"rp_estimator": "oracle"}, "rp_estimator"),
    ({"beta_schedule": "cubic"}, "beta_schedule"),
    ({"beta_direction": "sideways"}, "beta_direction"),
    ({"rp_span": "prompt"}, "rp_span"),
    ({"replay_strategy": "lifo"}, "replay_strategy"),
    ({"warm_start_steps": "many"}, "warm_start_steps"),
    ({"eval_batch_size": [1, 2]}, "eval_batch_size"),
    ({"eval_before_stream": 3}, "eval_before_stream"),
    ({"anchor": "future"}, "anchor"),
    ({"stream": "no_such_stream"}, "stream"),
    ({"max_steps": -1}, "max_steps"),
    ({"learning_rate_typo": 0.1}, "learning_rate_typo"),
    ({"stream": _DROP}, "--stream"),
])
def test_bad_recipe_fails_before_training_naming_the_field(tmp_path, changes, field_name):
    recipe = _bad_recipe(tmp_path, **changes)
    with pytest.raises(RecipeError, match=field_name):
        main(["--config", str(recipe)])
    assert not (tmp_path / "run").exists()  # nothing was trained or written


def test_wrong_type_on_the_command_line_names_it():
    with pytest.raises(RecipeError, match="--max_steps"):
        parse_args(["--max_steps", "lots"])


def test_cli_prints_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    import rdbcl.train

    monkeypatch.setattr("sys.argv", ["rdbcl-train", "--config", str(_bad_recipe(tmp_path, method="nope"))])
    with pytest.raises(SystemExit) as exit_info:
        rdbcl.train.cli()
    assert exit_info.value.code == 2
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("rdbcl-train")]
    assert line.startswith("rdbcl-train: configuration error: method: unknown method 'nope'")


def test_a_config_built_in_code_is_checked_when_its_run_starts(tmp_path):
    """``ContinualConfig`` cannot check the names the layers above it register, so the stream loop does, before
    anything is built or written."""
    from rdbcl.run.loop import StreamRunner

    stream_args, args, model_args = parse_args(["--config", str(_bad_recipe(tmp_path))])
    args.rp_span = "prompt"
    with pytest.raises(ValueError, match="rp_span: unknown span 'prompt'"):
        StreamRunner(stream_args, args, model_args)
    assert not (tmp_path / "run").exists()
