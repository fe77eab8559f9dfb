"""A run's recipe: ``--config recipe.yaml`` plus command-line overrides, parsed into the three configurations of a
run, or one clear error naming the file or field before anything is trained or written."""

from __future__ import annotations

import sys
from pathlib import Path

from trl import ModelConfig, TrlParser

from rdbcl.config import ContinualConfig, StreamArguments
from rdbcl.run.choices import check_choices


DEFAULT_RECIPE = Path(__file__).resolve().parents[2] / "launch" / "recipes" / "default.yaml"


class RecipeError(ValueError):
    """A recipe or command line that cannot configure a run; raised before anything is trained or written."""


class _Parser(TrlParser):
    def error(self, message: str):  # argparse would print the whole usage and exit; name the field instead
        raise RecipeError(message)


def parse_args(argv: list[str] | None = None) -> tuple[StreamArguments, ContinualConfig, ModelConfig]:
    """Parse ``--config recipe.yaml`` plus CLI overrides; with no arguments at all, the embedded default recipe."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("--") and "--config" not in argv and _only_overrides(argv)):
        if not DEFAULT_RECIPE.is_file():
            raise FileNotFoundError(f"The default recipe {DEFAULT_RECIPE} is missing; pass --config RECIPE.yaml.")
        argv = ["--config", str(DEFAULT_RECIPE), *argv]
    _check_recipe_file(argv)
    parser = _Parser((StreamArguments, ContinualConfig, ModelConfig))
    try:
        stream_args, args, model_args = parser.parse_args_and_config(argv)
        check_choices(args)
        return stream_args, args, model_args
    except RecipeError:
        raise
    except (ValueError, TypeError) as err:
        raise RecipeError(str(err)) from err


def _check_recipe_file(argv: list[str]) -> None:
    """The ``--config`` file exists and is a YAML mapping (TRL's parser would raise a bare OSError or YAMLError)."""
    import yaml

    if "--config" not in argv:
        return
    at = argv.index("--config")
    if at + 1 >= len(argv):
        raise RecipeError("--config: expected the path of a recipe (.yaml).")
    path = Path(argv[at + 1]).expanduser()
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise RecipeError(f"--config: cannot read the recipe {str(path)!r}: {err.strerror or err}") from err
    except yaml.YAMLError as err:
        raise RecipeError(f"--config: {path} is not valid YAML: {' '.join(str(err).split())}") from err
    if not isinstance(data, dict):
        raise RecipeError(f"--config: {path} must hold a mapping of fields, got {type(data).__name__}.")


def _only_overrides(argv: list[str]) -> bool:
    """CLI overrides without a recipe apply on top of the default recipe (e.g. ``--max_steps 5``)."""
    return "--stream" not in argv
