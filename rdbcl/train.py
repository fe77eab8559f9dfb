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


from rdbcl.run.recipe import RecipeError, parse_args  # noqa: E402


def print_summary(results: dict) -> None:
    from rdbcl.run.report import matrix_table, metrics_table, task_table

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

    from rdbcl.run.loop import StreamRunner

    results = StreamRunner(stream_args, args, model_args).run()
    if PartialState().is_main_process:
        print_summary(results)
    return results


USAGE_ERROR = 2  # argparse's exit status for a command line (here also a recipe, a stream or data) it cannot use


def _one_line_errors() -> dict[type[Exception], str]:
    """Errors in what the user gave (recipe, model path, stream file, data rows, run directory), each reported as one
    line; anything else is a bug or a runtime failure and keeps its traceback."""
    from rdbcl.models.loading import ModelPathError
    from rdbcl.run.run_dir import RunMismatchError
    from task_streams.data_error import DataError
    from task_streams.spec import StreamSpecError

    return {RecipeError: "configuration error", ModelPathError: "model error", StreamSpecError: "stream file error",
            DataError: "data error", RunMismatchError: "run directory"}


def cli() -> None:
    """Console entry point: an unusable recipe, model path, stream file or data row prints one clear line (naming the
    field, or the file, row and field) and exits with status 2 instead of a traceback."""
    kinds = _one_line_errors()
    try:
        main()
    except tuple(kinds) as err:
        kind = next(label for cls, label in kinds.items() if isinstance(err, cls))
        hint = ("; pass --skip_invalid true to skip such rows and count them in the report"
                if kind == "data error" and err.row is not None else "")
        print(f"rdbcl-train: {kind}: {err}{hint}", file=sys.stderr)
        sys.exit(USAGE_ERROR)


if __name__ == "__main__":
    cli()
