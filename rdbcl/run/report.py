"""Run report: ``results.json``, ``results.md`` and an accuracy heatmap, rewritten atomically after every task."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from rdbcl.files import write_atomic, write_text_atomic


def peak_memory_mb() -> dict[str, float]:
    """Peak memory of this process so far: resident set (CPU) and, on CUDA, the largest allocation."""
    import resource

    import torch

    peak = {"cpu_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # kilobytes on Linux
    if torch.cuda.is_available():
        peak["cuda_allocated"] = torch.cuda.max_memory_allocated() / 2**20
    return peak


def versions() -> dict[str, str]:
    import accelerate
    import datasets
    import peft
    import torch
    import transformers
    import trl

    return {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "trl": trl.__version__, "peft": peft.__version__, "accelerate": accelerate.__version__,
            "datasets": datasets.__version__}


def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def matrix_table(results: dict) -> str:
    """Markdown accuracy matrix: one row per stage (zero-shot, then after each task), one column per task."""
    names = [t["name"] for t in results["stream"]["tasks"]]
    lines = ["| after \\ on | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    if results.get("zero_shot") is not None:
        lines.append("| (base) | " + " | ".join(_fmt(x) for x in results["zero_shot"]) + " |")
    for t, row in enumerate(results["acc"]):
        lines.append(f"| {names[t]} | " + " | ".join(_fmt(x) for x in row) + " |")
    return "\n".join(lines)


def task_table(results: dict) -> str:
    """Per task: chance level, accuracy before its training, after the warm-start, after RL, and at the end."""
    lines = ["| task | chance | before | after warm-start | after training | final |", "|---|---|---|---|---|---|"]
    for t in results["tasks"]:
        lines.append(f"| {t['name']} | {_fmt(t['chance'])} | {_fmt(t.get('before'))} | "
                     f"{_fmt(t.get('after_warm_start'))} | {_fmt(t.get('after'))} | {_fmt(t.get('final'))} |")
    return "\n".join(lines)


def portability_section(results: dict) -> list[str]:
    """RDB-CL runs: per-task means over steps of RP and β (see ``rdbcl_portability.png``)."""
    rows = [(t["name"], t["rdbcl"]["mean_over_steps"]) for t in results["tasks"] if t.get("rdbcl")]
    if not rows:
        return []
    lines = ["| task | RP mean | RP std | β mean | β std | β min | β max |", "|---|---|---|---|---|---|---|"]
    for name, m in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(m.get(f"rdbcl/{k}"), 4) for k in (
            "rp/mean", "rp/std", "beta/mean", "beta/std", "beta/min", "beta/max")) + " |")
    return ["## Reasoning portability and per-sample β (means over the task's steps)", "\n".join(lines),
            "![RP vs β](rdbcl_portability.png)"]


def metrics_table(metrics: dict) -> str:
    keys = ["last", "average", "mft", "bwt", "forgetting"]
    titles = ["Last", "Average", "MFT", "BWT", "Forgetting"]
    if "zero_shot_degradation" in metrics:
        keys, titles = [*keys, "zero_shot_degradation"], [*titles, "Zero-shot degradation"]
    return ("| " + " | ".join(titles) + " |\n|" + "---|" * len(keys) + "\n| "
            + " | ".join(_fmt(metrics.get(k)) for k in keys) + " |")


def held_out_section(results: dict) -> list[str]:
    """Held-out tasks: accuracy of the base model and of the final policy (zero-shot degradation = before − after)."""
    rows = results.get("held_out") or []
    if not rows:
        return []
    lines = ["| held-out task | before stream | after stream | degradation |", "|---|---|---|---|"]
    lines += [f"| {h['name']} | {_fmt(h['before'])} | {_fmt(h['after'])} | {_fmt(h['degradation'])} |" for h in rows]
    return ["## Held-out tasks (%)", "\n".join(lines)]


def skipped_rows_section(results: dict) -> list[str]:
    """Rows left out as invalid (``skip_invalid``), per task and split: a reader sees what the numbers rest on."""
    tasks = [*results["stream"]["tasks"], *results["stream"].get("held_out", [])]
    rows = [(t["name"], t.get("skipped_rows") or {}) for t in tasks if t.get("skipped_rows")]
    if not rows:
        return []
    lines = ["| task | train rows skipped | eval rows skipped |", "|---|---|---|"]
    lines += [f"| {name} | {n.get('train', 0)} | {n.get('eval', 0)} |" for name, n in rows]
    return ["## Invalid rows skipped (`skip_invalid`)", "\n".join(lines)]


def render_markdown(results: dict) -> str:
    timings = results["timings"]
    parts = [
        f"# rdbcl run: method `{results['config']['method']}` on stream `{results['stream']['name']}`",
        "## Accuracy matrix (%)\nRow: after training that task (or the base model); column: evaluated task.",
        matrix_table(results),
        "## Stream metrics (%)", metrics_table(results["metrics"]) if results.get("metrics") else "(incomplete run)",
        "## Per task", task_table(results),
        *held_out_section(results),
        *skipped_rows_section(results),
        *portability_section(results),
        "## Timings (s)",
        "| phase | seconds |\n|---|---|\n" + "\n".join(f"| {k} | {v:.1f} |" for k, v in timings.items()
                                                   if isinstance(v, (int, float))),
    ]
    return "\n\n".join(parts) + "\n"


def _save_figure(fig, path: Path) -> None:
    """Write a figure atomically (a kill never leaves a half-written PNG) and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    # the temporary name ends in .tmp, so the image format is named rather than guessed from it
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=100, format=path.suffix.lstrip(".")))
    plt.close(fig)


def draw_accuracy_grid(ax, rows: list[list[float | None]], names: list[str], labels: list[str], title: str):
    """One accuracy matrix as an annotated heatmap on ``ax`` (also used by ``rdbcl-compare``); returns the image."""
    import numpy as np

    grid = np.array([[np.nan if x is None else x for x in row] for row in rows], dtype=float)
    im = ax.imshow(grid, vmin=0, vmax=100, cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for (r, c), v in np.ndenumerate(grid):
        if not np.isnan(v):
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", color="white" if v < 60 else "black")
    ax.set_title(title)
    return im


def plot_heatmap(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [t["name"] for t in results["stream"]["tasks"]]
    rows = ([results["zero_shot"]] if results.get("zero_shot") is not None else []) + results["acc"]
    if not rows:  # nothing evaluated yet (no zero-shot row requested)
        return
    labels = (["(base)"] if results.get("zero_shot") is not None else []) + [f"after {n}" for n in names]
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2.5, 0.6 * len(rows) + 1.5))
    im = draw_accuracy_grid(ax, rows, names, labels,
                            f"{results['config']['method']} on {results['stream']['name']}: accuracy (%)")
    fig.colorbar(im, ax=ax)
    _save_figure(fig, path)


def plot_portability(results: dict, path: Path) -> bool:
    """RP vs β (every prompt of every step) and RP over training, per task; False when the run logged no RP."""
    per_task = [(t["name"], t["rdbcl"]["steps"]) for t in results["tasks"] if t.get("rdbcl", {}).get("steps")]
    if not per_task:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    offset = 0
    for name, steps in per_task:
        rp = [v for s in steps for v in s["rp_values"]]
        beta = [v for s in steps for v in s["beta_values"]]
        left.scatter(rp, beta, s=8, alpha=0.5, label=name)
        x = [offset + s["step"] for s in steps]
        right.plot(x, [s["rdbcl/rp/mean"] for s in steps], label=f"{name} mean")
        right.fill_between(x, [s["rdbcl/rp/min"] for s in steps], [s["rdbcl/rp/max"] for s in steps], alpha=0.2)
        offset = x[-1]
    left.set(xlabel="reasoning portability RP_i", ylabel="β_i", title="RP → β (each prompt, each step)")
    right.set(xlabel="GRPO step (tasks in order)", ylabel="RP", title="RP over training (mean, min–max)")
    left.legend()
    right.legend()
    _save_figure(fig, path)
    return True


def write_report(results: dict, output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output_dir / "results.json", json.dumps(results, indent=2, default=str))
    write_text_atomic(output_dir / "results.md", render_markdown(results))
    plot_heatmap(results, output_dir / "accuracy_heatmap.png")
    plot_portability(results, output_dir / "rdbcl_portability.png")
