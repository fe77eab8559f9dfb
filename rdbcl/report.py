"""Run report: ``results.json``, ``results.md`` and an accuracy heatmap, rewritten atomically after every task."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path


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


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


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


def metrics_table(metrics: dict) -> str:
    keys = ["last", "average", "mft", "bwt", "forgetting"]
    return ("| Last | Average | MFT | BWT | Forgetting |\n|---|---|---|---|---|\n| "
            + " | ".join(_fmt(metrics.get(k)) for k in keys) + " |")


def render_markdown(results: dict) -> str:
    timings = results["timings"]
    parts = [
        f"# rdbcl run: method `{results['config']['method']}` on stream `{results['stream']['name']}`",
        "## Accuracy matrix (%)\nRow: after training that task (or the base model); column: evaluated task.",
        matrix_table(results),
        "## Stream metrics (%)", metrics_table(results["metrics"]) if results.get("metrics") else "(incomplete run)",
        "## Per task", task_table(results),
        "## Timings (s)",
        "| phase | seconds |\n|---|---|\n" + "\n".join(f"| {k} | {v:.1f} |" for k, v in timings.items()
                                                   if isinstance(v, (int, float))),
    ]
    return "\n\n".join(parts) + "\n"


def plot_heatmap(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [t["name"] for t in results["stream"]["tasks"]]
    rows = ([results["zero_shot"]] if results.get("zero_shot") is not None else []) + results["acc"]
    labels = (["(base)"] if results.get("zero_shot") is not None else []) + [f"after {n}" for n in names]
    grid = np.array([[np.nan if x is None else x for x in row] for row in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2.5, 0.6 * len(rows) + 1.5))
    im = ax.imshow(grid, vmin=0, vmax=100, cmap="viridis")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(labels)), labels)
    for (r, c), v in np.ndenumerate(grid):
        if not np.isnan(v):
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", color="white" if v < 60 else "black")
    ax.set_title(f"{results['config']['method']} on {results['stream']['name']}: accuracy (%)")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    tmp = path.with_name("tmp." + path.name)
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def write_report(results: dict, output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write(output_dir / "results.json", json.dumps(results, indent=2, default=str))
    _atomic_write(output_dir / "results.md", render_markdown(results))
    plot_heatmap(results, output_dir / "accuracy_heatmap.png")
