"""Entry point: run a continual RLVR stream.

    accelerate launch rdbcl/train.py                                   # the embedded default
    accelerate launch rdbcl/train.py --config launch/recipes/X.yaml [--field value ...]
    python -m rdbcl.train ... / rdbcl-train ...
"""

import os
import sys
from pathlib import Path


if __name__ == "__main__" and not __package__:
    # Run as a script (`accelerate launch rdbcl/train.py`): import the installed package, not its sibling files.
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from trl import ModelConfig, TrlParser  # noqa: E402

from rdbcl.config import ContinualConfig, StreamArguments  # noqa: E402


DEFAULT_RECIPE = Path(__file__).resolve().parents[1] / "launch" / "recipes" / "default.yaml"


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
    parser = _Parser((StreamArguments, ContinualConfig, ModelConfig))
    try:
        return parser.parse_args_and_config(argv)
    except RecipeError:
        raise
    except (ValueError, TypeError) as err:
        raise RecipeError(str(err)) from err


def _only_overrides(argv: list[str]) -> bool:
    """CLI overrides without a recipe apply on top of the default recipe (e.g. ``--max_steps 5``)."""
    return "--stream" not in argv


def print_summary(results: dict) -> None:
    from rdbcl.report import matrix_table, metrics_table, task_table

    print("\nAccuracy matrix (%): row = after training that task, column = evaluated task")
    print(matrix_table(results))
    print("\nPer task (%):")
    print(task_table(results))
    print("\nStream metrics (%):")
    print(metrics_table(results["metrics"]))
    t = results["timings"]
    print(f"\nRun time {t['total_s']:.0f} s (one-time model build {t['model_build_s']:.0f} s, not included). "
          f"Report: {results['config']['output_dir']}/results.md")


def use_cpu_cores() -> None:
    """Give each CPU process its share of the cores.

    ``accelerate launch`` without ``--cpu`` exports ``OMP_NUM_THREADS=1`` even on a machine with no GPU, which
    halves the speed of a 2-core run. Where it did so (or where ``RDBCL_CPU_THREADS`` says), set torch's threads to
    the cores available to this process divided by the processes on this node.
    """
    import torch

    if torch.cuda.is_available():
        return
    requested = os.environ.get("RDBCL_CPU_THREADS")
    launched_single_threaded = os.environ.get("OMP_NUM_THREADS") == "1" and "ACCELERATE_MIXED_PRECISION" in os.environ
    if requested is None and not launched_single_threaded:
        return
    local_processes = max(int(os.environ.get("LOCAL_WORLD_SIZE", "1")), 1)
    threads = int(requested) if requested else max(len(os.sched_getaffinity(0)) // local_processes, 1)
    torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> dict:
    stream_args, args, model_args = parse_args(argv)
    use_cpu_cores()

    from accelerate import PartialState

    from rdbcl.loop import StreamRunner

    results = StreamRunner(stream_args, args, model_args).run()
    if PartialState().is_main_process:
        print_summary(results)
    return results


def cli() -> None:
    """Console entry point: configuration errors print one clear line instead of a traceback."""
    from rdbcl.run_dir import RunMismatchError

    try:
        main()
    except RecipeError as err:
        sys.exit(f"rdbcl-train: configuration error: {err}")
    except RunMismatchError as err:
        sys.exit(f"rdbcl-train: {err}")


if __name__ == "__main__":
    cli()
