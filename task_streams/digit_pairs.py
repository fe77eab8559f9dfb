"""Two handwritten digits in one image, and the reasoning texts about them: the shared material of the reasoning
testbed (the foundation mix π₀ is pretrained on, and the ``digit_reasoning`` stream).

Every solution is written in the reasoning format ``<think>…</think><answer>…</answer>``, with real intermediate
steps: what is seen, then the operation with its operands and result, e.g.
``<think>I see 3 and 5. 3 + 5 = 8.</think><answer>8</answer>``. A task of the stream asks for one operation on the
two digits of an image; its perception step (reading the digits) is the same in every task and its final step
differs, so the previous policy's reasoning carries over in part — fully where the two operations agree (3 + 0 and
3 − 0), up to the reading step elsewhere.

Digits are scikit-learn's 8×8 handwritten digits (1,797 images), split 80/20 by image exactly as the embedded
stream splits them; pairs for evaluation are drawn from held-out images only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image as PILImage


@dataclass(frozen=True)
class Operation:
    """A binary operation on two digits: how a question names it and how a reasoning step writes it."""

    name: str
    phrase: str  # "the sum" in "what is the sum of …?"
    symbol: str  # "+" in "what is + of the two digits?"
    apply: Callable[[int, int], int]
    step: Callable[[int, int, int], str]  # the written step, given the two operands and the result


OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("sum", "the sum", "+", lambda a, b: a + b, lambda a, b, r: f"{a} + {b} = {r}"),
    Operation("difference", "the difference", "-", lambda a, b: abs(a - b),
              lambda a, b, r: f"{max(a, b)} - {min(a, b)} = {r}"),
    Operation("product", "the product", "*", lambda a, b: a * b, lambda a, b, r: f"{a} * {b} = {r}"),
    Operation("larger", "the larger", "max", max, lambda a, b, r: f"max({a}, {b}) = {r}"),
    Operation("smaller", "the smaller", "min", min, lambda a, b, r: f"min({a}, {b}) = {r}"),
)}

# The digits the testbed draws (0–4): each operation is then a table of 25 facts, few enough for the tiny model
# to learn within π₀'s build budget (with 0–9, 100 facts per operation, it still got most sums wrong).
DIGITS = tuple(range(5))
READ_QUESTION = "what are the two digits?"
OPEN_QUESTION = "what can the two digits make?"


def image_question(op: str) -> str:
    return f"what is {OPERATIONS[op].phrase} of the two digits?"


def symbol_question(op: str) -> str:
    """The operation on an image's digits asked by its symbol: the same words as ``image_question`` but for the
    operation's name, so the stream's question is this one with the name that the text questions bind to it."""
    return f"what is {OPERATIONS[op].symbol} of the two digits?"


def text_question(op: str, a: int, b: int) -> str:
    return f"what is {OPERATIONS[op].phrase} of {a} and {b}?"


def seen(a: int, b: int) -> str:
    return f"The digits are {a} and {b}."


def solution(think: str, answer: str) -> str:
    return f"<think>{think}</think><answer>{answer}</answer>"


def read_solution(a: int, b: int) -> tuple[str, str]:
    """(solution, answer) of the reading question: the digits left to right."""
    return solution(seen(a, b), f"{a} {b}"), f"{a} {b}"


def op_solution(op: str, a: int, b: int) -> tuple[str, str]:
    """(solution, answer) of an operation on two digits, whether written in the question or shown in an image: the
    same two steps (the operands, then the operation), so that only where the digits come from differs."""
    result = OPERATIONS[op].apply(a, b)
    return solution(f"{seen(a, b)} {OPERATIONS[op].step(a, b, result)}.", str(result)), str(result)


def majority_rate(op: str) -> float:
    """Percent of digit pairs whose answer is the most frequent one: the accuracy of always giving that answer
    (for the difference of two digits 0–4, "1" is right on 8 of the 25 pairs)."""
    answers = [OPERATIONS[op].apply(a, b) for a in DIGITS for b in DIGITS]
    return 100.0 * max(answers.count(v) for v in set(answers)) / len(answers)


def answers_of(op: str) -> list[str]:
    """Every possible answer of an operation on two digits (its chance level is one over their number)."""
    return sorted({str(OPERATIONS[op].apply(a, b)) for a in DIGITS for b in DIGITS}, key=int)


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images 0–255, labels, permutation): the embedded stream's split (seed 0, first 80 % train)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    return (digits.images * (255.0 / 16.0)).astype("uint8"), digits.target.astype(int), order


def digit_indices(split: str) -> dict[int, list[int]]:
    """Indices of each digit's images in ``split`` (``train``: the first 80 % of the permutation, else the rest)."""
    _, labels, order = _digits()
    cut = int(0.8 * len(order))
    chosen = order[:cut] if split == "train" else order[cut:]
    by_digit: dict[int, list[int]] = {d: [] for d in range(10)}
    for i in chosen:
        by_digit[int(labels[i])].append(int(i))
    return by_digit


def pair_image(left: int, right: int, size: int = 64) -> PILImage.Image:
    """The two digit images (by index) side by side, each upscaled to half the width, on a black square."""
    images, _, _ = _digits()
    half = size // 2
    canvas = PILImage.new("L", (size, size))
    for slot, index in enumerate((left, right)):
        digit = PILImage.fromarray(images[index], mode="L").resize((half, half), PILImage.BILINEAR)
        canvas.paste(digit, (slot * half, (size - half) // 2))
    return canvas.convert("RGB")


def digit_pairs(split: str, n: int, seed: int) -> Iterator[tuple[int, int, int, int]]:
    """``n`` pairs (a, b, left image index, right image index), digits uniform over ``DIGITS`` each."""
    rng = random.Random(seed)
    by_digit = digit_indices(split)
    for _ in range(n):
        a, b = rng.choice(DIGITS), rng.choice(DIGITS)
        yield a, b, rng.choice(by_digit[a]), rng.choice(by_digit[b])
