"""``rdbcl-compare RUN_DIR...``: which method forgets least, and at what cost — one table over runs of one stream.

Reads each run's ``results.json``, groups runs by method (and by any setting that differs between runs of the same
method, e.g. ``beta``), and reports mean ± std over seeds of Last, Average, MFT, BWT, forgetting, zero-shot
degradation, wall time and peak memory; writes ``compare.md``, ``compare.json``, a per-task forgetting plot and
side-by-side mean accuracy heatmaps. Each method is also set against constant-β GRPO (``--reference``): the mean of
its per-seed differences on the seeds both ran, with a t-interval — a paired comparison, so the seed-to-seed spread
the two share drops out.

    rdbcl-compare runs/sweep/embedded/*_seed* --out runs/compare
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from rdbcl.run.run_dir import NEUTRAL_FIELDS


METRICS = ["last", "average", "mft", "bwt", "forgetting", "zero_shot_degradation"]
SEED_FIELDS = {"seed", "data_seed", "stream_seed", "full_determinism"}
TITLES = {"last": "Last", "average": "Average", "mft": "MFT", "bwt": "BWT", "forgetting": "Forgetting",
          "zero_shot_degradation": "Zero-shot degr.", "wall_s": "Wall time (s)", "peak_mb": "Peak mem (MB)"}


class CompareError(ValueError):
    """Runs that cannot be compared (missing, incomplete, or on different streams)."""


def load_runs(dirs: list[str | Path]) -> list[dict]:
    runs = []
    for d in dirs:
        path = Path(d) / "results.json"
        if not path.is_file():
            raise CompareError(f"{d}: no results.json (is it a run directory?).")
        results = json.loads(path.read_text())
        if not results.get("complete"):
            raise CompareError(f"{d}: the run is incomplete ({len(results['acc'])} of "
                               f"{len(results['stream']['tasks'])} tasks); finish it by rerunning its command.")
        results["_dir"] = str(d)
        runs.append(results)
    if not runs:
        raise CompareError("no run directories given.")
    streams = {_stream_key(r) for r in runs}
    if len(streams) > 1:
        detail = "; ".join(f"{r['_dir']}: {_stream_key(r)}" for r in runs)
        raise CompareError(f"runs on different streams cannot be compared: {detail}.")
    return runs


def _stream_key(results: dict) -> str:
    return f"{results['stream']['name']} ({' → '.join(t['name'] for t in results['stream']['tasks'])})"


def _setting(results: dict) -> dict:
    """The run's settings that define a method variant (not seeds, not logging or output locations)."""
    config = results["config"]
    return {k: v for k, v in config.items() if k not in NEUTRAL_FIELDS | SEED_FIELDS}


def group_runs(runs: list[dict]) -> dict[str, list[dict]]:
    """Runs grouped by method; runs of one method that differ in a setting get it in their label (``grpo beta=0``).

    Only settings every run records are compared (runs written by older versions may lack newer fields).
    """
    by_method: dict[str, list[dict]] = {}
    for r in runs:
        by_method.setdefault(r["config"]["method"], []).append(r)
    groups: dict[str, list[dict]] = {}
    for method, members in by_method.items():
        settings = [_setting(r) for r in members]
        shared = set.intersection(*(set(s) for s in settings))  # a field an older run lacks is not a difference
        keys = sorted(k for k in shared if len({json.dumps(s[k], default=str) for s in settings}) > 1)
        for r, s in zip(members, settings, strict=True):
            label = method + "".join(f" {k}={s.get(k)}" for k in keys if k != "method")
            groups.setdefault(label, []).append(r)
    return groups


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else None)


def _run_figures(r: dict) -> dict:
    peak = r.get("peak_memory_mb") or {}
    return {**{k: r["metrics"].get(k) for k in METRICS}, "wall_s": r["timings"].get("total_s"),
            "peak_mb": peak.get("cuda_allocated", peak.get("cpu_rss"))}


def summarize_groups(groups: dict[str, list[dict]]) -> dict[str, dict]:
    table = {}
    for label, members in groups.items():
        figures = [_run_figures(r) for r in members]
        table[label] = {"seeds": sorted(r["config"].get("seed") for r in members),
                        "runs": [r["_dir"] for r in members],
                        **{k: _mean_std([f[k] for f in figures]) for k in [*METRICS, "wall_s", "peak_mb"]}}
    return table


PAIRED_METRICS = ["last", "average", "forgetting", "bwt"]


def default_reference(groups: dict[str, list[dict]]) -> str | None:
    """Constant-β GRPO: the ``grpo`` group with the largest β > 0 (None without one)."""
    grpo = [(r[0]["config"].get("beta") or 0.0, label) for label, r in groups.items()
            if r[0]["config"]["method"] == "grpo" and (r[0]["config"].get("beta") or 0.0) > 0]
    return max(grpo)[1] if grpo else None


def paired_interval(differences: list[float], level: float = 0.95) -> dict:
    """Mean of paired differences with its Student-t interval (None with fewer than two pairs)."""
    from scipy.stats import t

    n = len(differences)
    mean = statistics.mean(differences) if differences else None
    if n < 2:
        return {"n": n, "mean": mean, "ci": None}
    half = t.ppf(0.5 + level / 2, n - 1) * statistics.stdev(differences) / n ** 0.5
    return {"n": n, "mean": mean, "ci": (mean - half, mean + half)}


def paired_differences(groups: dict[str, list[dict]], reference: str) -> dict[str, dict]:
    """Per group and metric, the paired difference (group − reference) over the seeds both groups ran."""
    if reference not in groups:
        raise CompareError(f"reference {reference!r} is not among the compared groups {sorted(groups)}.")
    by_seed = {r["config"].get("seed"): r["metrics"] for r in groups[reference]}
    out = {}
    for label, members in groups.items():
        if label == reference:
            continue
        pairs = [(r["metrics"], by_seed[r["config"].get("seed")]) for r in members
                 if r["config"].get("seed") in by_seed]
        out[label] = {k: paired_interval([m[k] - ref[k] for m, ref in pairs
                                          if m.get(k) is not None and ref.get(k) is not None])
                      for k in PAIRED_METRICS}
    return out


def paired_markdown(paired: dict[str, dict], reference: str) -> str:
    def cell(d: dict) -> str:
        if d["mean"] is None:
            return "—"
        ci = f" [{d['ci'][0]:+.1f}, {d['ci'][1]:+.1f}]" if d["ci"] else ""
        return f"{d['mean']:+.1f}{ci}"

    lines = [f"Paired difference to `{reference}` on the same seeds (points; mean [95 % t-interval]; forgetting: "
             "lower is better).", "",
             "| method | pairs | " + " | ".join(TITLES[k] for k in PAIRED_METRICS) + " |",
             "|---|---|" + "---|" * len(PAIRED_METRICS)]
    for label, row in sorted(paired.items()):
        lines.append(f"| {label} | {row['last']['n']} | " + " | ".join(cell(row[k]) for k in PAIRED_METRICS) + " |")
    return "\n".join(lines) + "\n"


def _cell(mean_std: tuple[float | None, float | None], digits: int = 1) -> str:
    mean, std = mean_std
    if mean is None:
        return "—"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def markdown(table: dict[str, dict], stream: str) -> str:
    columns = [k for k in [*METRICS, "wall_s", "peak_mb"] if any(row[k][0] is not None for row in table.values())]
    lines = [f"Stream: {stream}. Mean ± std over seeds (%, except time and memory).", "",
             "| method | seeds | " + " | ".join(TITLES[c] for c in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for label, row in sorted(table.items(), key=lambda item: -(item[1]["last"][0] or 0.0)):
        cells = [_cell(row[c], 0 if c in ("wall_s", "peak_mb") else 1) for c in columns]
        lines.append(f"| {label} | {len(row['seeds'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _mean_matrix(members: list[dict]) -> list[list[float]]:
    n = len(members[0]["acc"])
    return [[statistics.mean(r["acc"][t][i] for r in members) for i in range(n)] for t in range(n)]


def per_task_forgetting(members: list[dict]) -> list[float]:
    """Mean over runs of max_{t<T−1} acc[t][i] − acc[T−1][i] for each task i but the last."""
    n = len(members[0]["acc"])
    return [statistics.mean(max(r["acc"][t][i] for t in range(i, n - 1)) - r["acc"][n - 1][i] for r in members)
            for i in range(n - 1)]


def plot(groups: dict[str, list[dict]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from rdbcl.run.report import _save_figure, draw_accuracy_grid

    labels = sorted(groups)
    names = [t["name"] for t in next(iter(groups.values()))[0]["stream"]["tasks"]]
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 5, 3.5))
    width = 0.8 / len(labels)
    colours = plt.get_cmap("tab20").colors  # ten colours would repeat beyond ten methods
    for k, label in enumerate(labels):
        ax.bar(np.arange(len(names) - 1) + k * width, per_task_forgetting(groups[label]), width, label=label,
               color=colours[k % len(colours)])
    ax.set_xticks(np.arange(len(names) - 1) + 0.4 - width / 2, names[:-1])
    ax.set_ylabel("forgetting (points)")
    ax.set_title("Per-task forgetting at the end of the stream (mean over seeds)")
    ax.legend(fontsize="small", bbox_to_anchor=(1.01, 1.0), loc="upper left")
    _save_figure(fig, out / "forgetting.png")

    cols = min(len(labels), 6)  # rows of six: a dozen methods stay readable
    rows = -(-len(labels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows), squeeze=False)
    for ax, label in zip(axes.flat, labels, strict=False):
        draw_accuracy_grid(ax, _mean_matrix(groups[label]), names, [f"after {n}" for n in names], label)
    for ax in list(axes.flat)[len(labels):]:
        ax.set_visible(False)
    _save_figure(fig, out / "heatmaps.png")


def compare(dirs: list[str | Path], out: str | Path | None = None, reference: str | None = None) -> dict[str, dict]:
    """The comparison table; with a constant-β GRPO group (or ``reference``) the paired differences to it are added
    to the markdown and written to ``paired.json``."""
    runs = load_runs(dirs)
    groups = group_runs(runs)
    table = summarize_groups(groups)
    text = markdown(table, _stream_key(runs[0]))
    reference = reference or default_reference(groups)
    paired = paired_differences(groups, reference) if reference and len(groups) > 1 else {}
    if paired:
        text += "\n" + paired_markdown(paired, reference)
    print(text)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.md").write_text(text)
        (out / "compare.json").write_text(json.dumps(table, indent=2))
        if paired:
            (out / "paired.json").write_text(json.dumps({"reference": reference, "paired": paired}, indent=2))
        plot(groups, out)
    return table


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rdbcl-compare", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories (each holding results.json)")
    parser.add_argument("--out", default=None, help="where to write compare.md/json and the figures")
    parser.add_argument("--reference", default=None, help="group the paired differences are taken to (default: "
                                                          "constant-β GRPO, the grpo group with the largest β > 0)")
    args = parser.parse_args(argv)
    try:
        compare(args.runs, args.out, args.reference)
    except CompareError as err:
        sys.exit(f"rdbcl-compare: {err}")


if __name__ == "__main__":
    cli()
