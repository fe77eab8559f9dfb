"""Throughput of every built-in reward on 10,000 distinct, realistic completions (half right, some malformed).

Prints completions/s per reward, the total time for all built-ins, and ``math_equivalence`` side by side with TRL's
own ``accuracy_reward`` (both math-verify based) on the same maths completions.

    python benchmarks/bench_rewards.py [--n 10000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time

import reward_fns


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
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--group", type=int, default=8, help="rollouts per prompt (GRPO's num_generations)")
    parser.add_argument("--math-worker", choices=["ours", "trl"], help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.math_worker:
        return math_worker(opts.math_worker, opts.n, opts.seed, opts.group)
    cases = make_cases(opts.n, opts.seed, opts.group)
    missing = set(reward_fns.available()) - set(cases)
    assert not missing, f"benchmark has no case for {missing}"
    print(f"{'reward':<20} {'completions/s':>14} {'seconds':>8} {'mean score':>10}")
    total = 0.0
    for name in sorted(cases):
        completions, columns = cases[name]
        fn = reward_fns.get(name)
        start = time.perf_counter()
        scores = fn(completions, **columns)
        elapsed = time.perf_counter() - start
        total += elapsed
        print(f"{name:<20} {len(completions) / elapsed:>14,.0f} {elapsed:>8.2f} {sum(scores) / len(scores):>10.3f}")
    print(f"all {len(cases)} built-ins on {opts.n:,} completions each ({opts.n // opts.group:,} prompts x "
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
