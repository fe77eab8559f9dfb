"""Throughput of every built-in reward on 10,000 distinct, realistic completions (half right, some malformed).

Prints completions/s per reward, the total time for all built-ins, and ``math_equivalence`` side by side with TRL's
own ``accuracy_reward`` (both math-verify based) on the same maths completions.

With ``--baseline PATH`` (a checkout of older code, e.g. ``git worktree add /tmp/rdbcl_base HEAD``) it compares the
two versions instead: each repeat runs every reward once in a fresh process per version (the version order
alternating from one repeat to the next, so that load on a shared machine falls on both alike), on the same cases
(this file's), and prints per reward the median completions/s of each version and the ratio new/old: its median and
min–max over the repeats.

    python benchmarks/bench_rewards.py [--n 10000] [--seed 0]
    python benchmarks/bench_rewards.py --baseline /tmp/rdbcl_base [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
COLOURS = ["red", "green", "blue", "black", "gray", "teal", "brown", "yellow"]
WORDS = ["stop", "exit", "coca cola", "main street", "open 24 hours", "no parking", "route 66", "bakery"]


def _wrap(rng: random.Random, answer: str) -> str:
    """A completion around ``answer``: usually well-formed, sometimes without tags or with a truncated answer."""
    words = ["the", "image", "shows", "a", "so", "count", "look", "left", "top"]
    think = " ".join(rng.choices(words, k=rng.randint(3, 30)))
    kind = rng.random()
    if kind < 0.08:
        return f"{think} {answer}"  # no tags
    if kind < 0.12:
        return f"<think>{think}</think><answer>{answer[: len(answer) // 2]}"  # truncated
    return f"<think>{think}</think><answer>{answer}</answer>"


def _maths(rng: random.Random, i: int) -> tuple[str, str]:
    """A MATH-style ground truth and a right answer spelled differently from it."""
    a, b = rng.randint(1, 99), rng.randint(2, 99)
    return rng.choice([(f"\\dfrac{{{a}}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}"), (str(a * b), str(a * b)),
                       (f"{a}.{i % 100:02d}", f"{a}.{i % 100:02d}0"), (f"\\sqrt{{{a}}}", f"\\boxed{{\\sqrt{{{a}}}}}"),
                       (f"{a}x+{b}", f"{b}+{a}x"), (f"\\frac{{{a}}}{{{b}}}", f"{a}/{b}")])


def make_cases(n: int, seed: int, group: int) -> dict[str, tuple[list, dict]]:
    """Per reward: ``n`` distinct completions as GRPO scores them — ``n / group`` prompts × ``group`` rollouts
    sharing the prompt's ground truth, about half of them right — and the columns the reward reads."""
    rng = random.Random(seed)
    prompts = n // group

    def rollouts(truths: list, right, wrong) -> tuple[list, list]:
        """``group`` completions per truth (right with probability 1/2), and the truth repeated alongside."""
        completions, columns = [], []
        for i, t in enumerate(truths):
            for _ in range(group):
                completions.append(_wrap(rng, right(i, t) if rng.random() < 0.5 else wrong(i, t)))
                columns.append(t)
        return completions, columns

    cases: dict[str, tuple[list, dict]] = {}
    colours, truth = rollouts([rng.choice(COLOURS) for _ in range(prompts)], lambda i, t: t,
                              lambda i, t: rng.choice(COLOURS))
    cases["exact_match"] = (colours, {"answer": truth})
    cases["format"] = (colours, {})
    spell = ["{}", "({})", "{}.", "{}) option text", "The answer is {}"]
    letters, truth = rollouts([rng.choice("ABCD") for _ in range(prompts)],
                              lambda i, t: rng.choice(spell).format(t), lambda i, t: rng.choice(spell).format("E"))
    cases["multiple_choice"] = (letters, {"answer": truth, "choices": [["a", "b", "c", "d", "e"]] * len(truth)})
    humans, truth = rollouts([[rng.choice(COLOURS[:3]) for _ in range(10)] for _ in range(prompts)],
                             lambda i, t: t[0].title() + ".", lambda i, t: rng.choice(COLOURS))
    cases["vqa_accuracy"] = (humans, {"answer": truth})
    ocr, truth = rollouts([[f"{rng.choice(WORDS)} {i}"] for i in range(prompts)], lambda i, t: t[0].upper(),
                          lambda i, t: t[0][:-2] + "xy")
    cases["anls"] = (ocr, {"answer": truth})

    def jitter(box: list, spread: float) -> str:
        return str([round(v + rng.uniform(-spread, spread), 3) for v in box])

    boxes = [[round(rng.uniform(0, 0.5), 3), round(rng.uniform(0, 0.5), 3), round(rng.uniform(0.5, 1), 3),
              round(rng.uniform(0.5, 1), 3)] for _ in range(prompts)]
    grounding, truth = rollouts(boxes, lambda i, t: jitter(t, 0.02), lambda i, t: jitter(t, 0.3))
    cases["iou"] = cases["grounding_accuracy"] = (grounding, {"answer": truth})
    maths = [_maths(rng, i) for i in range(prompts)]
    math_completions, truth = rollouts([t for t, _ in maths], lambda i, t: maths[i][1],
                                       lambda i, t: str(rng.randint(0, 10**4)))
    cases["math_equivalence"] = (math_completions, {"answer": truth})
    values, truth = rollouts([round(rng.uniform(-1e4, 1e4), 2) for _ in range(prompts)], lambda i, t: f"{t:,.2f}",
                             lambda i, t: f"{t * 1.01:,.2f}")
    cases["numeric"] = (values, {"answer": truth})
    cases["overlong_penalty"] = (colours, {"completion_ids": [[0] * rng.randint(1, 600) for _ in colours],
                                           "max_length": 512})
    scenes = [[f"a {rng.choice(COLOURS)} car parked on {rng.choice(WORDS)}",  # drawn last: earlier cases unchanged
               f"a {rng.choice(COLOURS)} car on a street", f"{rng.choice(WORDS)} sign next to a car"]
              for _ in range(prompts)]
    captions, truth = rollouts(scenes, lambda i, t: rng.choice(t).capitalize() + ".",
                               lambda i, t: f"a {rng.choice(COLOURS)} dog on {rng.choice(WORDS)}")
    cases["cider"] = (captions, {"answer": truth})
    return cases


def import_rewards(root: Path):
    """``reward_fns`` from the checkout at ``root`` (ahead of any installed copy)."""
    sys.path.insert(0, str(root))
    import reward_fns

    where = Path(reward_fns.__file__).resolve()
    assert where.is_relative_to(root.resolve()), f"imported {where}, not the code under {root}"
    return reward_fns


def run_all(reward_fns, n: int, seed: int, group: int) -> dict:
    """Every built-in the cases cover, once, in this process: per reward its seconds and mean score."""
    import warnings

    warnings.simplefilter("ignore", UserWarning)  # e.g. cider's note on per-batch document frequencies
    cases = make_cases(n, seed, group)
    results = {}
    for name in sorted(set(cases) & set(reward_fns.available())):
        completions, columns = cases[name]
        fn = reward_fns.get(name)
        start = time.perf_counter()
        scores = fn(completions, **columns)
        results[name] = {"seconds": time.perf_counter() - start, "n": len(completions),
                         "mean": sum(scores) / len(scores)}
    return {"results": results, "uncovered": sorted(set(reward_fns.available()) - set(cases))}


def compare(baseline: Path, opts: argparse.Namespace) -> None:
    """New (this checkout) against ``baseline``, one fresh process per version and repeat, order alternating."""
    runs: dict[str, list[dict]] = {"new": [], "old": []}
    roots = {"new": ROOT, "old": baseline.resolve()}
    for repeat in range(opts.repeats):
        for version in ("new", "old") if repeat % 2 == 0 else ("old", "new"):
            out = subprocess.run([sys.executable, __file__, "--worker", str(roots[version]), "--n", str(opts.n),
                                  "--seed", str(opts.seed), "--group", str(opts.group)], capture_output=True,
                                 text=True, check=True, cwd=roots[version],
                                 env={**os.environ, "PYTHONPATH": str(roots[version])})
            runs[version].append(json.loads(out.stdout.strip().splitlines()[-1]))
    names = sorted(set().union(*(r["results"] for v in runs.values() for r in v)))
    print(f"{opts.n:,} completions per reward, {opts.repeats} interleaved repeats; new = {ROOT}, old = {baseline}")
    print(f"{'reward':<20} {'old c/s':>10} {'new c/s':>10} {'new/old':>8} {'min–max':>13}  mean score old→new")
    for name in names:
        per = {v: [r["results"].get(name) for r in runs[v]] for v in runs}
        rate = {v: [x["n"] / x["seconds"] for x in per[v] if x] for v in per}
        mean = {v: next((x["mean"] for x in per[v] if x), None) for v in per}
        if not rate["old"] or not rate["new"]:
            cells = [f"{statistics.median(rate[v]):,.0f}" if rate[v] else "—" for v in ("old", "new")]
            print(f"{name:<20} {cells[0]:>10} {cells[1]:>10}  (in one version only)")
            continue
        ratios = [a / b for a, b in zip(rate["new"], rate["old"], strict=True)]
        print(f"{name:<20} {statistics.median(rate['old']):>10,.0f} {statistics.median(rate['new']):>10,.0f} "
              f"{statistics.median(ratios):>8.3f} {f'{min(ratios):.2f}–{max(ratios):.2f}':>13}  "
              f"{mean['old']:.3f}→{mean['new']:.3f}")
    for version in runs:
        if runs[version][0]["uncovered"]:
            print(f"{version} code has rewards this benchmark has no case for: {runs[version][0]['uncovered']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--group", type=int, default=8, help="rollouts per prompt (GRPO's num_generations)")
    parser.add_argument("--baseline", type=Path, help="checkout of older code to compare against, side by side")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats per version (with --baseline)")
    parser.add_argument("--math-worker", choices=["ours", "trl"], help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker:
        return print(json.dumps(run_all(import_rewards(opts.worker), opts.n, opts.seed, opts.group)))
    if opts.math_worker:
        return math_worker(opts.math_worker, opts.n, opts.seed, opts.group)
    if opts.baseline:
        return compare(opts.baseline, opts)
    run = run_all(import_rewards(ROOT), opts.n, opts.seed, opts.group)
    assert not run["uncovered"], f"benchmark has no case for {run['uncovered']}"
    print(f"{'reward':<20} {'completions/s':>14} {'seconds':>8} {'mean score':>10}")
    for name, r in run["results"].items():
        print(f"{name:<20} {r['n'] / r['seconds']:>14,.0f} {r['seconds']:>8.2f} {r['mean']:>10.3f}")
    total = sum(r["seconds"] for r in run["results"].values())
    print(f"all {len(run['results'])} built-ins on {opts.n:,} completions each ({opts.n // opts.group:,} prompts x "
          f"{opts.group}): {total:.2f} s")

    # Side by side with TRL's math-verify reward on the same maths completions, each in a fresh process so that
    # neither profits from the parse caches (ours, math-verify's, sympy's) the other warmed.
    times = {}
    for kind in ("ours", "trl"):
        out = subprocess.run([sys.executable, __file__, "--n", str(opts.n), "--seed", str(opts.seed), "--group",
                              str(opts.group), "--math-worker", kind], capture_output=True, text=True, check=True)
        times[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    agree = sum(a == b for a, b in zip(times["ours"]["scores"], times["trl"]["scores"], strict=True)) / opts.n
    ours_s, trl_s = times["ours"]["seconds"], times["trl"]["seconds"]
    print(f"math_equivalence {ours_s:.2f} s vs trl accuracy_reward {trl_s:.2f} s on the same {opts.n:,} "
          f"(fresh processes): agreement={agree:.3f} ratio_time={ours_s / trl_s:.3f}")


def math_worker(kind: str, n: int, seed: int, group: int) -> None:
    reward_fns = import_rewards(ROOT)
    completions, columns = make_cases(n, seed, group)["math_equivalence"]
    if kind == "ours":
        fn = reward_fns.get("math_equivalence")
        start = time.perf_counter()
        scores = fn(completions, **columns)
    else:  # TRL's reads conversations and a `solution` column, and extracts answers from \boxed{} only
        from trl.rewards import accuracy_reward

        spans = [reward_fns.parsing.answer_span(c) or "" for c in completions]
        conversations = [[{"role": "assistant", "content": s if "\\boxed" in s else f"$\\boxed{{{s}}}$"}]
                         for s in spans]
        solutions = [f"${t}$" for t in columns["answer"]]
        start = time.perf_counter()
        scores = accuracy_reward(conversations, solution=solutions)
    elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed, "scores": [float(s or 0.0) for s in scores]}))


if __name__ == "__main__":
    main()
