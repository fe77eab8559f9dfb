"""``python -m task_streams list`` — the shipped streams; ``python -m task_streams check STREAM --data-root DIR`` —
validate a local copy of a stream's released files: rows per task, missing images, unreadable images, bad rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from datasets import Image
from tqdm.auto import tqdm

import reward_fns
from task_streams.base import _STREAMS, available_streams, get_stream, is_stream_file
from task_streams.data_error import DataError
from task_streams.images import unreadable
from task_streams.spec import StreamSpecError, load_stream_spec
from task_streams.yaml_stream import TaskBuilder


USAGE_ERROR = 2  # as argparse: the data or stream given cannot be used as it is (rdbcl-train exits the same way)


def _stream_file(name: str) -> Path | None:
    if is_stream_file(name):
        return Path(name).expanduser()
    return getattr(_STREAMS.get(name), "stream_file", None)


def list_streams(verifiable_only: bool = False) -> int:
    """Each shipped stream's task count and order, then one line per task: how it is scored (``verifiable``, or
    ``dense`` for a similarity score such as CIDEr; ``remote`` when its answers are scored elsewhere) and its metric.
    With ``verifiable_only`` the subset a run with ``--verifiable_only true`` trains."""
    print(f"{'stream':<16} {'tasks':>5}  order")
    for name in available_streams():
        path = _stream_file(name)
        if path is None:  # built by code from pip-shipped data: one row per split is enough to name its tasks
            names = get_stream(name, n_train=1, n_eval=1).names
            print(f"{name:<16} {len(names):>5}  {' → '.join(names)} (built offline from pip-shipped data; "
                  "verifiable)")
            continue
        spec = load_stream_spec(path)
        if verifiable_only:
            spec = spec.selected(verifiable_only=True)
        order = " → ".join(t.name + (" (eval only)" if t.mode == "eval_only" else "") for t in spec.tasks)
        print(f"{name:<16} {len(spec.tasks):>5}  {order}")
        for task in spec.tasks:
            metric = reward_fns.RewardSpec.parse(task.metric).name
            why = f"  not scorable offline: {task.reason}" if not task.offline else ""
            print(f"    {task.name:<18} {task.kind:<18} {metric}{why}")
    return 0


def check(name: str, data_root: str | None) -> int:
    """Read every row of every task, skipping and counting bad ones, then decode every image."""
    path = _stream_file(name)
    if path is None:
        print(f"check: {name!r} is not a stream file or a shipped stream ({available_streams()}).", file=sys.stderr)
        return USAGE_ERROR
    spec = load_stream_spec(path)
    root = Path(data_root).expanduser() if data_root else None
    problems = 0
    print(f"{'task':<14} {'train':>8} {'eval':>8} {'bad rows':>9} {'missing img':>12} {'unreadable':>11}")
    for task in spec.tasks:
        builder = TaskBuilder(task, spec, root, skip_invalid=True)
        try:
            splits = {s: builder.split(s, 0, allow_empty=True) for s in ("train", "eval")}
        except DataError as error:  # the split's file itself is missing or unreadable
            print(f"{task.name:<14} {'-':>8} {'-':>8}\n    {error}", file=sys.stderr)
            problems += 1
            continue
        broken = [f"{why} ({split} row {row})" for split, data in splits.items()
                  for row, why in _unreadable_images(data, f"{task.name} {split}")]
        log = builder.skipped
        print(f"{task.name:<14} {len(splits['train']):>8} {len(splits['eval']):>8} {log.total:>9} "
              f"{log.missing_images:>12} {len(broken):>11}")
        for line in [*log.examples[:5], *broken[:5]]:
            print(f"    {line}")
        problems += log.total + len(broken)
    print("OK" if not problems else f"{problems} problem(s) found; rows with problems are skipped with "
                                     "`skip_invalid: true` and counted in the report.")
    return 0 if not problems else USAGE_ERROR


def _unreadable_images(data, desc: str):
    if "image" not in data.column_names:
        return
    for row, cell in enumerate(tqdm(data.cast_column("image", Image(decode=False))["image"], desc=desc, leave=False)):
        why = cell and unreadable(cell["path"])
        if why:
            yield row, f"{cell['path']}: {why}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m task_streams", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    lister = commands.add_parser("list", help="the shipped streams with their tasks")
    lister.add_argument("--verifiable_only", action="store_true",
                        help="only the tasks with a verifiable metric that can be scored offline")
    checker = commands.add_parser("check", help="validate a local copy of a stream's files")
    checker.add_argument("stream", help="shipped stream name or path of a stream file")
    checker.add_argument("--data-root", default=None, help="folder holding the stream's released files")
    args = parser.parse_args(argv)
    try:
        return list_streams(args.verifiable_only) if args.command == "list" else check(args.stream, args.data_root)
    except (StreamSpecError, DataError) as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
