"""Step time and peak memory: stock TRL ``GRPOTrainer`` vs ``RDBCLTrainer`` variants, with paired-ratio intervals.

Every variant trains the same tiny VLM on the same batches (same seed, so the same rollouts), each run in a fresh
process so that its peak memory is its own. A repeat runs every variant once; the order alternates between
repeats (A B C, C B A, A B C, …: ABBA for two variants), so a slow drift of a shared machine hits each variant
alike. A repeat's ratio is a variant's median step time after warm-up (or its peak memory) over the stock run's of
the same repeat; the reported ratio is the median of these paired ratios, with a percentile-bootstrap 95 % CI over
them (min–max below 5 repeats). One ratio from one pair of runs cannot tell a cost of a few per cent from noise on
a shared CPU; the interval says whether it can. Memory is the peak CUDA allocation on a GPU, or on CPU the peak
resident-set growth during ``train()`` (Linux's VmHWM, reset right before it, over the size right before it).
On a CPU shared with other jobs, ``--threads 1`` keeps a run from stalling: two OpenMP threads on two busy cores
were measured 10–40× slower per step (0.4 s → 16 s), one thread stayed at about 0.7 s.

    python benchmarks/bench_step.py [--steps 8] [--warmup 2] [--repeats 6] [--threads N] [--json out.json]
    python benchmarks/bench_step.py --rdbcl-args "--rp_estimator policy_agreement"
    python benchmarks/bench_step.py --variants stock rdbcl "pa=rdbcl --rp_estimator policy_agreement"

A variant is ``[LABEL=]stock`` or ``[LABEL=]rdbcl [ContinualConfig fields ...]``; the fields (``--rdbcl-args``
first, then the variant's own) are parsed by ``rdbcl.train.parse_args`` on top of the script's base configuration,
which the stock run uses unchanged. Each ratio is against the one stock variant. The last line (one line per
compared variant, prefixed ``variant=LABEL`` when there are several) reads
``ratio_time=X [lo, hi] ratio_mem=Y [lo, hi]`` (variant / stock).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


KINDS = ("stock", "rdbcl")
# Same configuration for every run; a variant's extra fields are parsed on top of it.
BASE_ARGS = ["--method", "rdbcl", "--per_device_train_batch_size", "16", "--num_generations", "4",
             "--max_completion_length", "12", "--learning_rate", "1e-4", "--logging_steps", "1000",
             "--disable_tqdm", "true", "--beta", "0.08", "--save_strategy", "no", "--report_to", "none"]
CI_MIN_REPEATS = 5  # below this a bootstrap over the repeats is too coarse to mean anything: report min–max


@dataclass(frozen=True)
class Variant:
    label: str
    kind: str  # "stock" or "rdbcl"
    args: tuple[str, ...]  # extra ContinualConfig fields (rdbcl only)


# ------------------------------------------------------------------------------------------------- one run
def worker(kind: str, extra: list[str], steps: int, warmup: int, out_dir: str) -> dict:
    """Train ``warmup + steps`` steps in this (fresh) process; median step time after warm-up and peak memory."""
    import torch
    from transformers import TrainerCallback
    from trl import GRPOTrainer

    import reward_fns
    from rdbcl.models.loading import load_policy, load_processor
    from rdbcl.models.tiny_vlm import ensure_tiny_vlm
    from rdbcl.rl.rdbcl_trainer import RDBCLTrainer
    from rdbcl.train import parse_args, use_cpu_cores
    from task_streams import get_stream

    path = str(ensure_tiny_vlm()[0])
    _, args, model_args = parse_args(
        [*BASE_ARGS, "--max_steps", str(warmup + steps), "--output_dir", out_dir, *extra])
    use_cpu_cores()
    task = get_stream("embedded", n_train=512, n_eval=1).tasks[0]
    processor = load_processor(path, model_args)
    cls = GRPOTrainer if kind == "stock" else RDBCLTrainer
    rewards = [reward_fns.RewardSpec.parse(r).function() for r in task.rewards]
    trainer = cls(model=load_policy(path, model_args), reward_funcs=rewards, args=args, train_dataset=task.train,
                  processing_class=processor)

    times: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, *a, **k):
            self.start = time.perf_counter()

        def on_step_end(self, *a, **k):
            times.append(time.perf_counter() - self.start)

    trainer.add_callback(StepTimer())
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    rss_before = _proc_status_mb("VmRSS")
    peak_reset = _reset_peak_rss()
    trainer.train()
    if cuda:
        mem = torch.cuda.max_memory_allocated() / 2**20
    else:
        # Without the reset, VmHWM is the process's lifetime peak, which a load spike before train() could hold.
        mem = _proc_status_mb("VmHWM") - rss_before
    return {"kind": kind, "step_s": statistics.median(times[warmup:]), "mem_mb": mem,
            "device": "cuda" if cuda else "cpu", "threads": torch.get_num_threads(), "peak_reset": cuda or peak_reset}


def _proc_status_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {key} line (the CPU memory figure needs Linux).")


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0, ``/proc/PID/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# -------------------------------------------------------------------------------------------- variants
def parse_variant(spec: str, common: list[str]) -> Variant:
    """``[LABEL=]KIND [FIELDS ...]`` → Variant; ``common`` (``--rdbcl-args``) goes before an rdbcl variant's own."""
    tokens = shlex.split(spec)
    if not tokens:
        raise ValueError("--variants: empty variant.")
    label, _, kind = tokens[0].rpartition("=")
    own = tokens[1:]
    if kind not in KINDS:
        raise ValueError(f"--variants {spec!r}: the variant's kind must be one of {KINDS}, got {kind!r}.")
    if kind == "stock" and own:
        raise ValueError(f"--variants {spec!r}: the stock reference takes no extra fields (it is the comparison's "
                         "fixed point).")
    args = tuple(common + own) if kind == "rdbcl" else ()
    if not label:
        label = kind if not own else f"{kind}:" + ",".join(_compact(own))
    if re.search(r"\s", label):
        raise ValueError(f"--variants {spec!r}: the label {label!r} must not contain whitespace.")
    return Variant(label, kind, args)


def _compact(tokens: list[str]) -> list[str]:
    """``--a b --c=d`` → ``["a=b", "c=d"]``, whitespace removed (a label for the table and the last line)."""
    out: list[str] = []
    for tok in tokens:
        if tok.startswith("--"):
            out.append(tok[2:])
        elif out and "=" not in out[-1]:
            out[-1] += "=" + tok
        else:
            out.append(tok)
    return [re.sub(r"\s+", "", t) for t in out]


def check_variant_args(variants: list[Variant]) -> None:
    """Parse every variant's fields now, before any run, and warn where one changes a field the stock run shares."""
    if not any(v.args for v in variants):
        return
    from trl import GRPOConfig

    from rdbcl.config import ContinualConfig
    from rdbcl.train import parse_args

    own = set(ContinualConfig.__dataclass_fields__) - set(GRPOConfig.__dataclass_fields__)
    with tempfile.TemporaryDirectory(prefix="rdbcl-bench-check-") as out:
        base = [*BASE_ARGS, "--max_steps", "1", "--output_dir", out]
        reference = parse_args(base)[1].to_dict()
        parsed_by_label = {}
        for v in variants:
            if not v.args:
                continue
            try:
                parsed_by_label[v.label] = parse_args([*base, *v.args])[1].to_dict()
            except (ValueError, TypeError, SystemExit) as err:  # argparse exits on an unknown field
                sys.exit(f"variant {v.label}: cannot parse its fields {list(v.args)}: {err}")
    for label, parsed in parsed_by_label.items():
        shared = sorted(k for k in parsed if k not in own and parsed[k] != reference.get(k))
        if shared:
            print(f"warning: variant {label} changes GRPOConfig fields the stock run keeps at their base value "
                  f"({', '.join(shared)}): its ratio is no longer a like-for-like cost of RDBCLTrainer.",
                  file=sys.stderr)


# -------------------------------------------------------------------------------------------- statistics
def median_interval(values: list[float]) -> tuple[float, float, float, str]:
    """Median of ``values`` and its interval: percentile-bootstrap 95 % CI (scipy), or min–max below 5 values.

    Percentile rather than BCa: BCa's jackknife acceleration of a median is unstable for a handful of values.
    """
    med = statistics.median(values)
    if len(values) < CI_MIN_REPEATS:
        return med, min(values), max(values), "min-max"
    import numpy as np
    from scipy.stats import bootstrap

    ci = bootstrap((np.asarray(values),), np.median, confidence_level=0.95, method="percentile",
                   n_resamples=9999, rng=np.random.default_rng(0)).confidence_interval
    return med, float(ci.low), float(ci.high), "bootstrap 95% CI"


def run_once(v: Variant, a: argparse.Namespace, out_dir: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", v.kind, "--worker-args", json.dumps(v.args),
           "--steps", str(a.steps), "--warmup", str(a.warmup), "--out", out_dir]
    env = dict(os.environ, RDBCL_CPU_THREADS=str(a.threads)) if a.threads else None  # read by use_cpu_cores
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"variant {v.label} ({v.kind} {' '.join(v.args)}) failed (exit {proc.returncode}):\n"
                 f"{proc.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8, help="timed steps per run, after the warm-up")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first steps per run")
    parser.add_argument("--repeats", type=int, default=6, help="runs of every variant (order alternating)")
    parser.add_argument("--variants", nargs="+", default=["stock", "rdbcl"], metavar="SPEC",
                        help="'[LABEL=]stock' or '[LABEL=]rdbcl [--field value ...]'; exactly one stock")
    parser.add_argument("--rdbcl-args", default="", metavar="FIELDS",
                        help="ContinualConfig fields for every rdbcl variant, e.g. '--rp_estimator policy_agreement'")
    parser.add_argument("--threads", type=int, help="CPU: torch threads per run (default: torch's own); on a "
                        "shared machine fewer threads than cores avoid the stalls of oversubscribed OpenMP")
    parser.add_argument("--json", type=Path, help="also write every run's figures and the ratios here")
    parser.add_argument("--out", help="output_dir root of the runs (default: a fresh temporary directory)")
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-args", default="[]", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.worker:
        print("RESULT " + json.dumps(worker(a.worker, json.loads(a.worker_args), a.steps, a.warmup, a.out)))
        return
    if a.steps < 1 or a.warmup < 0 or a.repeats < 1 or (a.threads is not None and a.threads < 1):
        parser.error("--steps, --repeats and --threads must be ≥ 1 and --warmup ≥ 0.")
    try:
        variants = [parse_variant(s, shlex.split(a.rdbcl_args)) for s in a.variants]
    except ValueError as err:
        parser.error(str(err))
    if [v.kind for v in variants].count("stock") != 1:
        parser.error("--variants: exactly one 'stock' variant is needed (every ratio is against it).")
    if len({v.label for v in variants}) != len(variants):
        parser.error("--variants: labels must be distinct (give one with LABEL=...).")
    check_variant_args(variants)
    stock = next(v for v in variants if v.kind == "stock")
    for v in variants:
        print(f"variant {v.label}: {'GRPOTrainer' if v.kind == 'stock' else 'RDBCLTrainer'} "
              f"{' '.join(v.args)}".rstrip(), flush=True)

    results: dict[str, list[dict]] = {v.label: [] for v in variants}
    width = max(len(v.label) for v in variants)
    with tempfile.TemporaryDirectory(prefix="rdbcl-bench-step-") as tmp:
        root = a.out or tmp
        for r in range(a.repeats):
            for i, v in enumerate(variants if r % 2 == 0 else variants[::-1]):
                res = run_once(v, a, f"{root}/r{r}-{i}")
                results[v.label].append(res)
                print(f"repeat {r} {v.label:>{width}}: {res['step_s'] * 1000:7.1f} ms/step  peak mem "
                      f"{res['mem_mb']:8.1f} MiB ({res['device']}, threads={res['threads']})", flush=True)
    if not all(res["peak_reset"] for runs in results.values() for res in runs):
        print("warning: the peak RSS could not be reset before train(); memory is the lifetime peak's growth.",
              file=sys.stderr)

    print(f"\nmedians over {a.repeats} repeats of {a.steps} steps after {a.warmup} warm-up:")
    for v in variants:
        runs = results[v.label]
        print(f"  {v.label:<{width}} {statistics.median(x['step_s'] for x in runs) * 1000:8.1f} ms/step "
              f"{statistics.median(x['mem_mb'] for x in runs):9.1f} MiB"
              + ("  (reference: stock GRPOTrainer)" if v is stock else ""))
    summary: dict[str, dict] = {}
    for v in variants:
        if v is stock:
            continue
        pairs = list(zip(results[v.label], results[stock.label], strict=True))
        entry = {}
        for key, field in (("time", "step_s"), ("mem", "mem_mb")):
            ratios = [x[field] / s[field] for x, s in pairs]
            med, lo, hi, how = median_interval(ratios)
            entry[key] = {"median": med, "low": lo, "high": hi, "interval": how, "per_repeat": ratios}
        summary[v.label] = entry
        per_repeat = {k: " ".join(f"{x:.3f}" for x in entry[k]["per_repeat"]) for k in ("time", "mem")}
        print(f"{v.label} / {stock.label} per repeat: time {per_repeat['time']}; mem {per_repeat['mem']}  "
              f"(intervals: {entry['time']['interval']})")
    if a.json:
        a.json.write_text(json.dumps({"steps": a.steps, "warmup": a.warmup, "repeats": a.repeats,
                                      "variants": {v.label: {"kind": v.kind, "args": list(v.args)}
                                                   for v in variants},
                                      "runs": results, "ratios": summary}, indent=2))
    for label, entry in summary.items():
        prefix = f"variant={label} " if len(summary) > 1 else ""
        t, m = entry["time"], entry["mem"]
        print(f"{prefix}ratio_time={t['median']:.3f} [{t['low']:.3f}, {t['high']:.3f}] "
              f"ratio_mem={m['median']:.3f} [{m['low']:.3f}, {m['high']:.3f}]")


if __name__ == "__main__":
    main()
