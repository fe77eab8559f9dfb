"""Does a sample's portability, measured before a task is trained, predict what training then does to it?

A diagnostic over a finished run directory (its saved policies). For each task k, on its evaluation rows, with
π_{k−1} (the policy before the task; π₀ for the first):

- **reasoning-level** signals (need the rows' reference ``solution``):
  ``reasoning_likelihood``, the geometric-mean probability π_{k−1} gives the reference solution's ``<think>``
  content (teacher-forced); ``prefix_transfer``, the fraction of ``rollouts`` sampled continuations of the first
  half of that reasoning whose answer verifies;
- **answer-level** signals: ``anchor_pass_rate``, the fraction of ``rollouts`` answers sampled from π_{k−1} that
  verify; ``answer_likelihood``, the probability of the reference ``<answer>`` content.

Outcomes: ``solved`` (π_k's greedy answer verifies) and ``retained`` (π_final's still does, among the rows π_k
solved; tasks before the last). Each signal–outcome pair gets its AUROC (scikit-learn) and Spearman ρ (SciPy) with
percentile-bootstrap 95 % intervals over rows. The paper's claim is that the reasoning-level signals stay reliable
where answer-level ones do not; this reports whatever the run shows.

    python -m rdbcl.testbed.portability_diagnostic runs/digit_reasoning [--rollouts 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

import reward_fns
from rdbcl.models.generation import generate_answers, per_sample_images, processor_inputs
from rdbcl.models.loading import tokenizer_of
from rdbcl.rl.reasoning_span import reasoning_prefix, span_range
from rdbcl.run.evaluate import evaluate_task


SIGNALS = {"reasoning_likelihood": "reasoning", "prefix_transfer": "reasoning", "anchor_pass_rate": "answer",
           "answer_likelihood": "answer"}
OUTCOMES = ("solved", "retained")


# ------------------------------------------------------------------------------------------------------ statistics
def auroc(signal, outcome) -> float | None:
    """Area under the ROC curve of ``signal`` for the binary ``outcome``; None when one class is missing."""
    from sklearn.metrics import roc_auc_score

    outcome = np.asarray(outcome, dtype=float) > 0.5
    return None if outcome.all() or not outcome.any() else float(roc_auc_score(outcome, np.asarray(signal, float)))


def spearman(signal, outcome) -> float | None:
    """Spearman rank correlation; None when either side is constant (or there are fewer than two rows)."""
    from scipy.stats import spearmanr

    signal, outcome = np.asarray(signal, float), np.asarray(outcome, float)
    if len(signal) < 2 or np.ptp(signal) == 0 or np.ptp(outcome) == 0:
        return None
    return float(spearmanr(signal, outcome).statistic)


def bootstrap_interval(stat, signal, outcome, n_boot: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of ``stat(signal, outcome)`` over rows (resamples where it is undefined are
    dropped); None when fewer than half of the resamples define it."""
    signal, outcome = np.asarray(signal, float), np.asarray(outcome, float)
    if not len(signal):
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(signal), len(signal))
        value = stat(signal[idx], outcome[idx])
        if value is not None:
            values.append(value)
    if len(values) < n_boot / 2:
        return None
    tail = 100 * (1 - level) / 2
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def signal_quality(signal, outcome, n_boot: int = 1000, seed: int = 0) -> dict:
    """AUROC and Spearman ρ of one signal for one outcome, each with its bootstrap interval."""
    return {"n": len(signal), "positives": int(np.sum(np.asarray(outcome, float) > 0.5)),
            "auroc": auroc(signal, outcome), "auroc_ci": bootstrap_interval(auroc, signal, outcome, n_boot, seed),
            "spearman": spearman(signal, outcome),
            "spearman_ci": bootstrap_interval(spearman, signal, outcome, n_boot, seed)}


# --------------------------------------------------------------------------------------------------------- signals
@torch.no_grad()
def span_likelihood(model, processor, prompts: list, images: list, completions: list[str], span: str) -> list[float]:
    """Per row, exp(mean log-prob) ``model`` gives the tokens of ``span`` (``reasoning`` / ``answer``) of a given
    completion, teacher-forced after the prompt (prompt and completion tokenized apart, as TRL's trainers do); NaN
    where the completion has no such span."""
    tokenizer = tokenizer_of(processor)
    texts = [processor.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
    inputs = processor_inputs(processor, texts, per_sample_images(images, len(texts))).to(model.device)
    done = tokenizer(completions, add_special_tokens=False, padding=True, padding_side="right",
                     return_offsets_mapping=True, return_tensors="pt")
    ids = torch.cat([inputs["input_ids"], done["input_ids"].to(model.device)], 1)
    mask = torch.cat([inputs["attention_mask"], done["attention_mask"].to(model.device)], 1)
    extra = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
    logits = model(input_ids=ids, attention_mask=mask, **extra).logits.float()
    start = inputs["input_ids"].shape[1]
    logps = torch.log_softmax(logits[:, start - 1:-1], -1).gather(-1, done["input_ids"].unsqueeze(-1)).squeeze(-1)
    out = []
    for row, text in enumerate(completions):
        bounds = span_range(text, span)
        offsets = done["offset_mapping"][row]
        inside = [(a < bounds[1] and b > bounds[0]) and bool(done["attention_mask"][row, t])
                  for t, (a, b) in enumerate(offsets.tolist())] if bounds else []
        picked = logps[row][torch.tensor(inside, dtype=torch.bool)] if any(inside) else None
        out.append(math.nan if picked is None else math.exp(picked.mean().item()))
    return out


def _pass_rate(model, processor, task, rows: dict, rollouts: int, max_new_tokens: int,
               prefixes: list[str] | None = None) -> list[float]:
    """Per row, the fraction of ``rollouts`` sampled completions (continuing ``prefixes``) whose answer verifies."""
    n = len(rows["prompt"])
    completions = generate_answers(model, processor, rows["prompt"], rows.get("image"), max_new_tokens,
                                   num_samples=rollouts, prefixes=prefixes)
    if prefixes is not None:
        completions = [prefixes[i // rollouts] + c for i, c in enumerate(completions)]
    repeated = {k: [v[i // rollouts] for i in range(n * rollouts)] for k, v in rows.items()}
    scores = reward_fns.score(task.metric_function("zero"), completions=completions, **repeated)
    scores = [0.0 if s is None else float(s) for s in scores]
    return [sum(scores[i * rollouts:(i + 1) * rollouts]) / rollouts for i in range(n)]


def task_signals(model, processor, task, rollouts: int = 4, max_new_tokens: int = 32,
                 batch_size: int = 25) -> dict[str, list[float]]:
    """Every signal of ``SIGNALS`` per evaluation row of ``task``, under ``model`` (π_{k−1}). Without a
    ``solution`` column only ``anchor_pass_rate`` is computed."""
    data = task.eval
    has_solution = "solution" in data.column_names
    signals: dict[str, list[float]] = {name: [] for name in SIGNALS if has_solution or name == "anchor_pass_rate"}
    model.eval()
    for start in tqdm(range(0, len(data), batch_size), desc=f"portability signals on {task.name}", leave=False):
        rows = data[start:start + batch_size]
        signals["anchor_pass_rate"] += _pass_rate(model, processor, task, rows, rollouts, max_new_tokens)
        if has_solution:
            for name, span in (("reasoning_likelihood", "reasoning"), ("answer_likelihood", "answer")):
                signals[name] += span_likelihood(model, processor, rows["prompt"], rows.get("image"),
                                                 rows["solution"], span)
            prefixes = [reasoning_prefix(s, 0.5) for s in rows["solution"]]
            signals["prefix_transfer"] += _pass_rate(model, processor, task, rows, rollouts, max_new_tokens,
                                                     prefixes)
    return signals


# ------------------------------------------------------------------------------------------------------------ run
def diagnose(run_dir: Path | str, rollouts: int = 4, n_boot: int = 1000, max_new_tokens: int | None = None) -> dict:
    """The diagnostic of a finished run (``save_policies: true``), written next to its results."""
    from trl import ModelConfig

    from rdbcl.config import StreamArguments
    from rdbcl.models.loading import load_policy, load_processor
    from rdbcl.run.run_dir import RunDirectory
    from task_streams import get_stream

    run_dir = Path(run_dir)
    torch.manual_seed(0)  # the sampled rollouts
    results = json.loads((run_dir / "results.json").read_text())
    if not results.get("complete"):
        raise ValueError(f"{run_dir}: the run is not complete; the diagnostic needs every task's policy.")
    stream_args = StreamArguments(**results["stream_args"])
    stream = get_stream(stream_args.stream, **stream_args.stream_kwargs())
    stream = dataclasses.replace(stream, tasks=[t for t in stream if t.mode != "eval_only"])  # as the run trained
    model_args = ModelConfig(**{k: v for k, v in results["model_args"].items()
                                if k in ModelConfig.__dataclass_fields__})
    max_new_tokens = max_new_tokens or results["config"].get("eval_max_new_tokens", 32)
    base = results["model_args"]["resolved_model"]
    layout = RunDirectory(run_dir)
    policies = [str(layout.policy(k, t.name)) for k, t in enumerate(stream)]
    missing = [p for p in policies if not Path(p).is_dir()]
    if missing:
        raise ValueError(f"{run_dir}: policies {missing} are missing (run with `save_policies: true`).")
    processor = load_processor(base, model_args)

    def outcomes(model, task) -> list[float]:
        return evaluate_task(model, processor, task, max_new_tokens=max_new_tokens, on_error="zero")["scores"]

    # each policy loaded once: π_k scores task k's outcome, then serves as the "before" policy of task k+1; the final
    # one also scores every task's retention
    final_policy = load_policy(policies[-1], model_args)
    before = load_policy(base, model_args)

    report = {"run": str(run_dir), "method": results["config"]["method"], "rollouts": rollouts, "tasks": []}
    for k, task in enumerate(stream):
        after = final_policy if k == len(stream) - 1 else load_policy(policies[k], model_args)
        signals = task_signals(before, processor, task, rollouts, max_new_tokens)
        solved = outcomes(after, task)
        entry = {"task": task.name, "anchor": "π_0" if k == 0 else f"π_{k}", "signals": signals, "solved": solved,
                 "quality": {"solved": {n: signal_quality(_clean(s), solved, n_boot) for n, s in signals.items()}}}
        if k < len(stream) - 1:
            final = outcomes(final_policy, task)
            kept = [i for i, s in enumerate(solved) if s > 0.5]
            entry["retained"] = final
            entry["quality"]["retained"] = {
                n: signal_quality([_clean(s)[i] for i in kept], [final[i] for i in kept], n_boot)
                for n, s in signals.items()}
        report["tasks"].append(entry)
        before = after
    write_diagnostic(report, run_dir)
    return report


def _clean(values: list[float]) -> list[float]:
    """NaN (a row without the span) ranks lowest."""
    return [-1.0 if math.isnan(v) else v for v in values]


def _fmt(q: dict, key: str) -> str:
    value, ci = q.get(key), q.get(f"{key}_ci")
    if value is None:
        return "–"
    return f"{value:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else f"{value:.2f}"


def markdown(report: dict) -> str:
    lines = [f"# Portability diagnostic: `{report['method']}` ({report['run']})", "",
             f"Signals from the policy before each task ({report['rollouts']} rollouts per row); AUROC and Spearman "
             "ρ with 95 % bootstrap intervals. `retained`: among the rows solved after the task, still solved at "
             "the end.", "",
             "| task | outcome | signal | level | n (positive) | AUROC | Spearman ρ |",
             "|---|---|---|---|---|---|---|"]
    for entry in report["tasks"]:
        for outcome, by_signal in entry["quality"].items():
            for name, q in by_signal.items():
                counts = f"{q['n']} ({q['positives']})"
                lines.append(f"| {entry['task']} | {outcome} | {name} | {SIGNALS[name]} | {counts} "
                             f"| {_fmt(q, 'auroc')} | {_fmt(q, 'spearman')} |")
    return "\n".join(lines) + "\n"


def plot(report: dict, path: Path) -> None:
    """AUROC of each signal per task and outcome, with its interval (0.5: no information)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(5 * len(OUTCOMES), 3.2), squeeze=False)
    for ax, outcome in zip(axes[0], OUTCOMES, strict=True):
        tasks = [e for e in report["tasks"] if outcome in e["quality"]]
        for j, name in enumerate(SIGNALS):
            xs, ys, lo, hi = [], [], [], []
            for i, entry in enumerate(tasks):
                q = entry["quality"][outcome].get(name)
                if q and q["auroc"] is not None:
                    ci = q["auroc_ci"] or (q["auroc"], q["auroc"])
                    xs.append(i + 0.15 * (j - 1.5))
                    ys.append(q["auroc"])
                    lo.append(q["auroc"] - ci[0])
                    hi.append(ci[1] - q["auroc"])
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", capsize=3, label=name)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xticks(range(len(tasks)), [e["task"] for e in tasks])
        ax.set_ylim(0, 1)
        ax.set_title(f"predicting: {outcome}")
        ax.set_ylabel("AUROC")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_diagnostic(report: dict, run_dir: Path) -> None:
    (run_dir / "portability_diagnostic.json").write_text(json.dumps(report, indent=1))
    (run_dir / "portability_diagnostic.md").write_text(markdown(report))
    plot(report, run_dir / "portability_diagnostic.png")


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="a finished run directory (results.json, policies/)")
    parser.add_argument("--rollouts", type=int, default=4, help="sampled rollouts per row for the pass rates")
    parser.add_argument("--n_boot", type=int, default=1000, help="bootstrap resamples")
    args = parser.parse_args(argv)
    report = diagnose(args.run_dir, args.rollouts, args.n_boot)
    print(markdown(report))


if __name__ == "__main__":
    cli()
