"""``rdbcl-sweep SWEEP.yaml``: every method × seed of a sweep file — one run after another here, or one cluster job
per run — then ``rdbcl-compare`` over them.

Rerunning the same command continues a sweep: complete runs are skipped, an interrupted run continues from its last
saved task or checkpoint (``rdbcl.train``'s own resume), and a run directory holding another configuration stops the
sweep before anything runs, naming the differing fields (or the base it started from, when an embedded base's recipe
has changed since).

    rdbcl-sweep launch/sweeps/embedded.yaml                    # sequentially, here
    rdbcl-sweep launch/sweeps/embedded.yaml --list             # the runs and where each stands
    rdbcl-sweep launch/sweeps/embedded.yaml --slurm            # an sbatch array script, one job per run
    rdbcl-sweep launch/sweeps/embedded.yaml --index 3          # only the 4th run (what each array job calls)
    rdbcl-sweep launch/sweeps/embedded.yaml --compare          # only the comparison of the complete runs
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml


SWEEP_KEYS = {"output_root", "seeds", "runs"}
RUN_KEYS = {"recipe", "set"}
DEFAULT_LAUNCHER = f"{shlex.quote(sys.executable)} -m rdbcl.train"


class SweepError(ValueError):
    """A sweep file that cannot be run, or run directories that conflict with it; raised before anything runs."""


@dataclass
class PlannedRun:
    """One (method variant, seed) of a sweep: its recipe (base recipe + ``set`` + seed + output_dir)."""

    name: str
    seed: int
    recipe: dict
    output_dir: Path
    recipe_dir: Path

    @property
    def label(self) -> str:
        return f"{self.name}_seed{self.seed}"

    @property
    def recipe_path(self) -> Path:
        return self.recipe_dir / f"{self.label}.yaml"


@dataclass
class Sweep:
    path: Path
    output_root: Path
    seeds: list[int]
    runs: list[PlannedRun] = field(default_factory=list)

    @property
    def compare_dir(self) -> Path:
        return self.output_root / "compare"


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file; every run's recipe is expanded (not yet validated: see ``write_recipes``)."""
    path = Path(path)
    if not path.is_file():
        raise SweepError(f"{path}: no such sweep file.")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SweepError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise SweepError(f"{path}: expected a mapping with keys {sorted(SWEEP_KEYS)}.")
    unknown, missing = set(raw) - SWEEP_KEYS, SWEEP_KEYS - set(raw)
    if unknown or missing:
        raise SweepError(f"{path}: " + "; ".join(
            ([f"unknown keys {sorted(unknown)}"] if unknown else []) + ([f"missing keys {sorted(missing)}"]
                                                                         if missing else [])) + ".")
    seeds = raw["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise SweepError(f"{path}: seeds: expected a non-empty list of integers, got {seeds!r}.")
    if not isinstance(raw["runs"], dict) or not raw["runs"]:
        raise SweepError(f"{path}: runs: expected a mapping of run names to {{recipe, set}}.")
    root = Path(raw["output_root"])
    sweep = Sweep(path, root, seeds)
    for name, spec in raw["runs"].items():
        base, overrides = _run_spec(path, name, spec)
        for seed in seeds:
            recipe = {**base, **overrides, "seed": seed, "output_dir": str(root / f"{name}_seed{seed}")}
            sweep.runs.append(PlannedRun(name, seed, recipe, root / f"{name}_seed{seed}", root / "recipes"))
    return sweep


def _run_spec(path: Path, name: str, spec) -> tuple[dict, dict]:
    where = f"{path}: runs.{name}"
    if not isinstance(spec, dict) or "recipe" not in spec or set(spec) - RUN_KEYS:
        raise SweepError(f"{where}: expected {{recipe: PATH, set: {{field: value}}}}, got {spec!r}.")
    recipe = Path(spec["recipe"])
    candidates = [recipe] if recipe.is_absolute() else [path.parent / recipe, Path.cwd() / recipe]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise SweepError(f"{where}.recipe: no such file {spec['recipe']!r} (relative to the sweep file).")
    base = yaml.safe_load(found.read_text())
    overrides = spec.get("set") or {}
    if not isinstance(overrides, dict):
        raise SweepError(f"{where}.set: expected a mapping of recipe fields, got {overrides!r}.")
    from rdbcl.methods import available_methods

    if "method" not in overrides and name in available_methods():
        overrides = {"method": name, **overrides}  # a run named after a method runs that method
    method = {**base, **overrides}.get("method")
    if method not in available_methods():
        raise SweepError(f"{where}: unknown method {method!r}; choose one of {available_methods()} (or set "
                         "`method:` in `set`).")
    return base, overrides


def parse_recipe(path: Path):
    """``rdbcl.run.recipe.parse_args`` of a run's recipe. A GPU recipe asks for bf16, which transformers refuses where
    there is no GPU (e.g. a cluster's login node, where sweeps are planned): parse it with bf16 off there, then
    record it as the recipe says, so that the plan and the run's configuration agree."""
    import torch

    from rdbcl.run.recipe import parse_args

    raw = yaml.safe_load(path.read_text())
    gpu_only = bool(raw.get("bf16")) and not torch.cuda.is_available()
    stream_args, args, model_args = parse_args(["--config", str(path), *(["--bf16", "false"] if gpu_only else [])])
    if gpu_only:
        args.bf16 = True
    return stream_args, args, model_args


def write_recipes(sweep: Sweep) -> None:
    """Write each run's recipe under ``output_root/recipes/`` and check that it parses (a typo in ``set`` fails
    here, naming the run, before any run starts)."""
    from rdbcl.files import write_text_atomic
    from rdbcl.run.recipe import RecipeError

    for run in sweep.runs:
        run.recipe_dir.mkdir(parents=True, exist_ok=True)
        header = f"# {run.label}: written by rdbcl-sweep from {sweep.path}; edit the sweep file, not this one.\n"
        # atomic: the array jobs of one sweep (--index, SLURM) all rewrite every recipe while others read theirs
        write_text_atomic(run.recipe_path, header + yaml.safe_dump(run.recipe, sort_keys=False))
        try:
            parse_recipe(run.recipe_path)
        except (RecipeError, ValueError) as err:
            raise SweepError(f"{sweep.path}: run {run.label}: {err}") from err


def run_state(run: PlannedRun) -> str:
    """``complete``, ``partial`` (continued when run) or ``new``; a directory holding another configuration raises."""
    from rdbcl.files import read_json
    from rdbcl.run.loop import run_config, run_defaults
    from rdbcl.run.run_dir import differences, fingerprint

    results = read_json(run.output_dir / "results.json")
    stored = read_json(run.output_dir / "run.json")
    if stored is None and results is None:
        return "new"
    stream_args, args, model_args = parse_recipe(run.recipe_path)
    current = json.loads(json.dumps(fingerprint(run_config(stream_args, args, model_args)), default=str))
    if stored is None:  # runs written before run.json existed: their results record the configuration, plus facts
        legacy = fingerprint({k: results.get(k, {}) for k in current})
        stored = {k: {f: v for f, v in legacy[k].items() if f in current[k]} for k in current}
    diff = differences(stored, current, run_defaults())
    if diff:
        raise SweepError(f"{run.output_dir} holds a run with another configuration than {run.label}: "
                         + "; ".join(diff[:8]) + ". Move it away or restore these settings.")
    started = (results or {}).get("model_args", {}).get("resolved_model")
    planned = _planned_start(stream_args, model_args)
    if started is not None and started != planned:  # same settings, another base: an embedded base's recipe changed
        raise SweepError(f"{run.output_dir} holds a run of {run.label} that started from {started}, but its recipe "
                         f"now starts from {planned} (an embedded base built from another recipe, or another model "
                         "path). Move that run away to rerun it, or restore the base it started from.")
    return "complete" if results is not None and results.get("complete") else "partial"


def _planned_start(stream_args, model_args) -> str:
    """The model a recipe's run starts from (``planned_model_path``); the stream is built only for the name of its
    embedded base, once per stream configuration."""
    from rdbcl.models.loading import planned_model_path

    if model_args.model_name_or_path:
        return planned_model_path(model_args)
    return planned_model_path(model_args, _stream_base_model(stream_args.stream,
                                                             json.dumps(stream_args.stream_kwargs(), default=str)))


@functools.cache
def _stream_base_model(stream: str, kwargs: str) -> str:
    from task_streams import get_stream

    return get_stream(stream, **json.loads(kwargs)).base_model


def execute(run: PlannedRun, launcher: str) -> int:
    """Run one recipe in its own process (memory and failures stay with it); output appended to ``train.log``."""
    run.output_dir.mkdir(parents=True, exist_ok=True)
    command = [*shlex.split(launcher), "--config", str(run.recipe_path)]
    with open(run.output_dir / "train.log", "a") as log:
        log.write(f"\n$ {shlex.join(command)}\n")
        log.flush()
        return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode


def slurm_script(sweep: Sweep, launcher: str, sbatch: list[str]) -> Path:
    """An sbatch array script: job i runs ``rdbcl-sweep SWEEP --index i`` (so it resumes like a local sweep)."""
    path = sweep.output_root / "sweep.sbatch"
    last = len(sweep.runs) - 1
    lines = ["#!/usr/bin/env bash",
             f"# One job per run of {sweep.path} ({len(sweep.runs)} runs), written by rdbcl-sweep.",
             f"#   sbatch {path}            # then, when all are done: rdbcl-sweep {sweep.path} --compare",
             "#SBATCH --job-name=rdbcl-sweep", f"#SBATCH --array=0-{last}",
             f"#SBATCH --output={sweep.output_root}/slurm-%A_%a.log",
             *[f"#SBATCH {option}" for option in sbatch],
             "set -euo pipefail", f"cd {shlex.quote(str(Path.cwd()))}",
             f"{shlex.quote(sys.executable)} -m rdbcl.run.sweep {shlex.quote(str(sweep.path))} "
             f"--index \"$SLURM_ARRAY_TASK_ID\" --launcher {shlex.quote(launcher)}", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    path.chmod(0o755)
    return path


def compare_complete(sweep: Sweep) -> dict | None:
    from rdbcl.run.compare import compare

    done = [r.output_dir for r in sweep.runs if run_state(r) == "complete"]
    if not done:
        print("rdbcl-sweep: no complete run to compare yet.")
        return None
    missing = len(sweep.runs) - len(done)
    if missing:
        print(f"rdbcl-sweep: comparing the {len(done)} complete runs; {missing} are not complete yet.")
    return compare(done, sweep.compare_dir)


def run_sweep(sweep: Sweep, launcher: str = DEFAULT_LAUNCHER, only: int | None = None) -> list[str]:
    """Run the sweep's incomplete runs in order (or only run ``only``); returns the labels of runs that failed."""
    runs = sweep.runs if only is None else [sweep.runs[only]]
    states = {r.label: run_state(r) for r in runs}  # every conflict is reported before anything runs
    failed = []
    for k, run in enumerate(runs, 1):
        prefix = f"[{k}/{len(runs)}] {run.label}"
        if states[run.label] == "complete":
            print(f"{prefix}: complete, skipped")
            continue
        verb = "continuing" if states[run.label] == "partial" else "running"
        print(f"{prefix}: {verb} (log: {run.output_dir / 'train.log'})", flush=True)
        start = time.monotonic()
        code = execute(run, launcher)
        took = time.monotonic() - start
        if code != 0:
            failed.append(run.label)
            print(f"{prefix}: FAILED (exit {code}) after {took:.0f} s; see its train.log. Going on.", flush=True)
            continue
        metrics = json.loads((run.output_dir / "results.json").read_text())["metrics"]
        print(f"{prefix}: done in {took:.0f} s — Last {metrics['last']:.1f}, Average {metrics['average']:.1f}, "
              f"BWT {metrics['bwt']:.1f}", flush=True)
    return failed


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rdbcl-sweep", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", help="sweep file (launch/sweeps/*.yaml)")
    parser.add_argument("--list", action="store_true", help="print the runs and their state, run nothing")
    parser.add_argument("--index", type=int, default=None, help="run only the run at this position (0-based)")
    parser.add_argument("--compare", action="store_true", help="only compare the complete runs")
    parser.add_argument("--slurm", action="store_true", help="write an sbatch array script instead of running")
    parser.add_argument("--sbatch", action="append", default=[],
                        help="an #SBATCH option for --slurm, e.g. --sbatch=--gpus-per-node=1 (repeatable)")
    parser.add_argument("--launcher", default=DEFAULT_LAUNCHER,
                        help="command that runs one recipe, given `--config RECIPE` (default: python -m rdbcl.train;"
                             " e.g. 'accelerate launch --config_file launch/accelerate/single_gpu.yaml "
                             "rdbcl/train.py')")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # one line per run, visible as it happens in a redirected log
    try:
        sweep = load_sweep(args.sweep)
        if args.index is not None and not 0 <= args.index < len(sweep.runs):
            raise SweepError(f"--index {args.index}: the sweep has runs 0..{len(sweep.runs) - 1}.")
        write_recipes(sweep)
        if args.list:
            for k, run in enumerate(sweep.runs):
                print(f"{k:3d}  {run.label:32s} {run_state(run):9s} {run.output_dir}")
            return
        if args.slurm:
            path = slurm_script(sweep, args.launcher, args.sbatch)
            print(f"wrote {path}; submit it with: sbatch {path}")
            return
        if args.compare:
            compare_complete(sweep)
            return
        failed = run_sweep(sweep, args.launcher, args.index)
        if args.index is None:
            compare_complete(sweep)
    except SweepError as err:
        sys.exit(f"rdbcl-sweep: {err}")
    if failed:
        sys.exit(f"rdbcl-sweep: {len(failed)} run(s) failed: {', '.join(failed)}; rerun the same command to retry.")


if __name__ == "__main__":
    cli()
