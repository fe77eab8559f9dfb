"""Extra memory of the SFT baselines that keep a previous model (LwF's teacher): each method runs the same short
embedded stream in a fresh process; the peak resident memory (or peak CUDA allocation on a GPU) is compared with
``seq_ft``'s, next to the exact parameter bytes of one model copy.

    python benchmarks/bench_sft_memory.py [--steps 20] [--methods lwf ewc replay]

The last line reads ``METHOD extra_mb=X`` per method.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def run(method: str, steps: int, out: Path) -> dict:
    args = ["--method", method, "--n_train", "128", "--n_eval", "20", "--max_steps", str(steps),
            "--warm_start_steps", "0", "--learning_rate", "0.001", "--per_device_train_batch_size", "16",
            "--eval_before_stream", "false", "--output_dir", str(out / method)]
    subprocess.run([sys.executable, "-m", "rdbcl.train", *args], check=True, capture_output=True)
    return json.loads((out / method / "results.json").read_text())["peak_memory_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--methods", nargs="+", default=["lwf", "ewc", "replay"])
    opts = parser.parse_args()
    from rdbcl.models.tiny_vlm import ensure_tiny_vlm

    path, _ = ensure_tiny_vlm()
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(str(path))
    model_mb = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    import torch

    key = "cuda_allocated" if torch.cuda.is_available() else "cpu_rss"
    with tempfile.TemporaryDirectory() as tmp:
        base = run("seq_ft", opts.steps, Path(tmp))
        print(f"one model copy: {model_mb:.1f} MB of parameters; seq_ft peak {key}: {base[key]:.0f} MB")
        lines = []
        for method in opts.methods:
            peak = run(method, opts.steps, Path(tmp))
            lines.append(f"{method} extra_mb={peak[key] - base[key]:.1f}")
            print(f"{method}: peak {key} {peak[key]:.0f} MB, {peak[key] - base[key]:+.1f} MB vs seq_ft")
    print(" ".join(lines))


if __name__ == "__main__":
    main()
