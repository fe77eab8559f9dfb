"""Step time and peak memory: stock TRL ``GRPOTrainer`` vs ``RDBCLTrainer`` (default estimator and schedule).

Both train the same tiny VLM on the same batches (same seed, so the same rollouts), each in its own process so
peak memory is its own. Each repeat runs the two back to back (in alternating order); a repeat's ratio is the
rdbcl run's median step time after warm-up over the stock run's, and the reported ratio is the median over
repeats, which keeps slow drifts of a shared machine out of the comparison. Memory is the peak
CUDA allocation on a GPU, or on CPU the peak resident-set growth during training (over the process's size right
before ``train()``).

    python benchmarks/bench_step.py [--steps 10] [--warmup 3] [--repeats 2]

The last line reads ``ratio_time=X ratio_mem=Y`` (rdbcl / stock).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker(kind: str, steps: int, warmup: int, out_dir: str) -> dict:
    import torch
    from transformers import TrainerCallback
    from trl import GRPOTrainer

    import reward_fns
    from rdbcl.modeling import load_policy, load_processor
    from rdbcl.rdbcl_trainer import RDBCLTrainer
    from rdbcl.tiny_vlm import ensure_tiny_vlm
    from rdbcl.train import parse_args, use_cpu_cores
    from task_streams import get_stream

    path = str(ensure_tiny_vlm()[0])
    _, args, model_args = parse_args([
        "--method", "rdbcl", "--max_steps", str(warmup + steps), "--per_device_train_batch_size", "16",
        "--num_generations", "4", "--max_completion_length", "12", "--learning_rate", "1e-4",
        "--logging_steps", "1000", "--output_dir", out_dir, "--disable_tqdm", "true", "--beta", "0.08",
    ])
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
    rss_before = _rss_mb()
    trainer.train()
    if cuda:
        mem = torch.cuda.max_memory_allocated() / 2**20
    else:
        mem = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    device = "cuda" if cuda else "cpu"
    return {"kind": kind, "step_s": statistics.median(times[warmup:]), "mem_mb": mem, "device": device}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", choices=["stock", "rdbcl"], help=argparse.SUPPRESS)
    parser.add_argument("--out", default="/tmp/rdbcl-bench-step")
    a = parser.parse_args()
    if a.worker:
        print("RESULT " + json.dumps(worker(a.worker, a.steps, a.warmup, a.out)))
        return

    results: dict[str, list[dict]] = {"stock": [], "rdbcl": []}
    for r in range(a.repeats):
        for kind in (("stock", "rdbcl") if r % 2 == 0 else ("rdbcl", "stock")):
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--steps", str(a.steps),
                   "--warmup", str(a.warmup), "--out", f"{a.out}/{kind}{r}"]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                sys.exit(f"{kind} worker failed:\n{proc.stderr[-3000:]}")
            res = json.loads(line[len("RESULT "):])
            results[kind].append(res)
            print(f"repeat {r} {kind:>5}: {res['step_s'] * 1000:7.1f} ms/step  peak mem {res['mem_mb']:8.1f} MiB "
                  f"({res['device']})", flush=True)
    time_s = {k: statistics.median(x["step_s"] for x in v) for k, v in results.items()}
    mem = {k: statistics.median(x["mem_mb"] for x in v) for k, v in results.items()}
    pairs = list(zip(results["rdbcl"], results["stock"], strict=True))
    ratio_time = statistics.median(r["step_s"] / s["step_s"] for r, s in pairs)
    ratio_mem = statistics.median(r["mem_mb"] / s["mem_mb"] for r, s in pairs)
    print(f"stock GRPOTrainer : {time_s['stock'] * 1000:7.1f} ms/step, {mem['stock']:8.1f} MiB (medians)")
    print(f"RDBCLTrainer      : {time_s['rdbcl'] * 1000:7.1f} ms/step, {mem['rdbcl']:8.1f} MiB (medians)")
    ratios = ", ".join(f"{r['step_s'] / s['step_s']:.3f}" for r, s in pairs)
    print(f"per-repeat time ratios: {ratios}")
    print(f"ratio_time={ratio_time:.3f} ratio_mem={ratio_mem:.3f}")


if __name__ == "__main__":
    main()
