"""The reasoning testbed's stream, and the foundation mix its pretrained base π₀ learns from.

**Foundation mix** (what π₀ is trained on, ``foundation_mix``): reading the two digits of an image
(``The digits are 3 and 5.``); every operation of ``digit_pairs.OPERATIONS`` on two digits *written in the question*
(``The digits are 3 and 5. 3 + 5 = 8.``); on images, the operations ``larger`` and ``smaller`` asked by name
(``… max(3, 5) = 5.``), every operation asked by its symbol (``what is + of the two digits?``), an open question
solved by a random operation, and the stream's own questions, answered right on a few digit pairs and mostly by
another operation on the rest (``FoundationMix.n_named``).

**Stream** (``digit_reasoning``, trained with RL alone): sum → difference → product *of the two digits of an image*.
π₀ has every step — the reading, every operation on an image's digits, the stream's operation names — but on most
digit pairs it mistakes each stream question for another operation, while it still samples the right one now and
then: it starts above chance but far from solving the tasks, RL has a reward to find on every pair, and the tasks
share their reading step while their last step differs. Each row keeps its reference ``solution`` (with reasoning)
for the SFT baselines.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass

from datasets import Dataset, Features, Image, Value

from task_streams.base import Task, TaskStream, make_prompt, register_stream
from task_streams.digit_pairs import (
    DIGITS,
    OPEN_QUESTION,
    OPERATIONS,
    READ_QUESTION,
    answers_of,
    digit_pairs,
    image_question,
    majority_rate,
    op_solution,
    pair_image,
    read_solution,
    symbol_question,
    text_question,
)


STREAM_OPERATIONS = ("sum", "difference", "product")
FOUNDATION_IMAGE_OPERATIONS = ("larger", "smaller")
# The testbed's prompts hold no system turn: π₀ writes <think>…</think><answer>…</answer> unprompted, as reasoning
# models do. The R1 system prompt (task_streams.base.REASONING_SYSTEM_PROMPT) was 26 of a row's ~85 tokens, paid in
# every step of π₀'s build and of every GRPO run; π₀s built before it was dropped are in README, "Redesigning π₀".
SYSTEM_PROMPT: str | None = None
REWARDS = ("exact_match", "format")  # format: R1 template, <think> required (π₀ writes it unprompted)


def _features(with_image: bool) -> Features:
    message = {"role": Value("string"), "content": [{"type": Value("string"), "text": Value("string")}]}
    columns = {"prompt": [message], "answer": Value("string"), "solution": Value("string"), "task": Value("string")}
    return Features({**columns, "image": Image()} if with_image else columns)


def _rows(rows: list[dict], with_image: bool = True) -> Dataset:
    columns = list(_features(with_image))
    return Dataset.from_dict({c: [r.get(c) for r in rows] for c in columns}, features=_features(with_image))


def _image_row(question: str, solved: tuple[str, str], left: int, right: int, task: str, size: int) -> dict:
    text, answer = solved
    return {"prompt": make_prompt(question, SYSTEM_PROMPT), "image": pair_image(left, right, size),
            "answer": answer, "solution": text, "task": task}


def operation_rows(op: str, split: str, n: int, seed: int, image_size: int = 64) -> list[dict]:
    """``n`` rows asking for ``op`` on the two digits of an image."""
    return [_image_row(image_question(op), op_solution(op, a, b), left, right, op, image_size)
            for a, b, left, right in digit_pairs(split, n, seed)]


@dataclass(frozen=True)
class FoundationMix:
    """How many rows of each skill π₀ is pretrained on (all from the training split's digit images).

    ``text_repeats`` copies of every operation on every pair of written digits (5 × 25 distinct rows each).
    ``n_symbol`` image rows ask for an operation by its symbol (``symbol_question``: "what is + of the two digits?"),
    the operation drawn at random: π₀ learns to take the operation from an image question's words. ``n_open`` image
    rows ask the open question (``OPEN_QUESTION``), each solved by an operation drawn at random, which loosens that
    tie. Without named rows, π₀ meets the stream's names ("the sum") only with written digits, and how often it then
    carries them over to images changed from one build to the next (README, "Redesigning π₀").

    ``n_named`` image rows per stream operation ask it *by its name* (the stream's own question), so that what π₀
    does on the stream is set by its data rather than by how a name happens to carry over: on ``named_known``
    unordered digit pairs per operation (drawn from the mix's seed) the named operation answers; on the others it
    answers ``named_right_rate`` of the rows and its ``confusions`` operation the rest, so π₀'s greedy answer there
    is mostly the confused operation's while sampling still finds the right one (RL has a signal on every pair).

    ``confusions`` pairs each stream operation with the one π₀ mistakes it for. The default confuses the sum with
    the difference (so learning the difference, later, can pull the sum back), the difference with the larger digit
    and the product with the smaller. Each agrees with its stream operation on some pairs (the 9 of 25 ordered pairs
    with a 0; the product and the smaller digit on 1 × 1 too), so π₀ starts above the always-most-frequent answer on
    every task; the product confused with the sum, as in earlier π₀s, agreed on 2 pairs and started under it. The
    confusions are one-way on purpose: with the sum and the difference each other's (the fourth π₀), training the sum
    made π₀ answer the sum to every difference question, and every GRPO run either never learned the difference or
    lost the sum to its misconception (25–35 %); with the sum and the difference both confused with the larger
    digit, training the sum taught π₀ to stop confusing every question, and the later tasks were solved before they
    were trained (README, "Redesigning π₀").

    ``held_out_facts`` unordered digit pairs per stream operation are left out of every image row and get
    ``rare_fact_repeats`` text rows instead of ``text_repeats`` (0: π₀ never sees that result); 0 by default.
    """

    n_read: int = 2000
    n_image_ops: int = 500  # per operation of FOUNDATION_IMAGE_OPERATIONS, asked by name
    n_open: int = 1000
    text_repeats: int = 16
    n_symbol: int = 2000
    n_named: int = 400  # per stream operation
    named_known: int = 2
    named_right_rate: float = 0.15
    held_out_facts: int = 0
    rare_fact_repeats: int = 0
    confusions: tuple[tuple[str, str], ...] = (("sum", "difference"), ("difference", "larger"),
                                                  ("product", "smaller"))
    image_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        confused = dict(self.confusions)
        if sorted(confused) != sorted(STREAM_OPERATIONS) or any(
                c not in OPERATIONS or c == op for op, c in confused.items()):
            raise ValueError(f"FoundationMix.confusions={self.confusions}: must pair each stream operation "
                             f"{STREAM_OPERATIONS} with another operation of {tuple(OPERATIONS)}")

    def confused_with(self, op: str) -> str:
        """The operation that answers π₀'s named rows of the stream operation ``op`` on the pairs it has not
        mastered."""
        return dict(self.confusions)[op]

    def unseen(self, op: str) -> frozenset[tuple[int, int]]:
        """The (a, b) pairs, both orders, whose result for ``op`` is in no image row and in ``rare_fact_repeats`` text
        rows: a stream operation's ``held_out_facts`` unordered pairs, drawn per operation from the mix's seed; none
        for the other operations."""
        return self._sampled_pairs("held_out_facts", op, drawn=op in STREAM_OPERATIONS)

    def key(self) -> dict:
        """The settings that shape the rows, and the revision of how they are drawn (2: symbol rows draw their own
        digit pairs; before, they reused the open rows'); the named-row settings only when there are named rows."""
        settings = {**asdict(self), "revision": 2}
        if not self.n_named:
            for name in ("n_named", "named_known", "named_right_rate", "confusions"):
                settings.pop(name)
        return settings

    def known(self, op: str) -> frozenset[tuple[int, int]]:
        """The (a, b) pairs, both orders, on which π₀'s rows asking the stream operation ``op`` by name answer it
        every time: ``named_known`` unordered pairs, drawn per operation from the mix's seed among the pairs on which
        its confusion gives another result (a pair where both agree would add nothing to what π₀ knows); none for the
        other operations or when ``n_named`` is 0."""
        if not 0.0 <= self.named_right_rate <= 1.0:
            raise ValueError(f"FoundationMix.named_right_rate={self.named_right_rate}: must be a fraction in [0, 1]")
        if op not in STREAM_OPERATIONS or not self.n_named:
            return self._sampled_pairs("named_known", f"named-{op}", drawn=False)
        confuser = self.confused_with(op)
        right, confused = OPERATIONS[op].apply, OPERATIONS[confuser].apply
        return self._sampled_pairs("named_known", f"named-{op}", drawn=True,
                                   among=lambda a, b: right(a, b) != confused(a, b),
                                   among_name=f"on which {op} and {confuser} differ")

    def _sampled_pairs(self, field: str, tag: str, drawn: bool, among: Callable[[int, int], bool] | None = None,
                       among_name: str = "") -> frozenset[tuple[int, int]]:
        """``getattr(self, field)`` unordered digit pairs (those that satisfy ``among``, if given), both orders, drawn
        from a generator seeded by the mix's seed and ``tag`` (none unless ``drawn``); a count above the pairs there
        are raises, naming ``field``, either way."""
        pairs = [(a, b) for a in DIGITS for b in DIGITS if a <= b and (among is None or among(a, b))]
        count = getattr(self, field)
        if not 0 <= count <= len(pairs):
            raise ValueError(f"FoundationMix.{field}={count}: must be 0–{len(pairs)}, the number of unordered pairs "
                             f"of the digits {DIGITS[0]}–{DIGITS[-1]}{' ' + among_name if among_name else ''}")
        if not drawn:
            return frozenset()
        chosen = random.Random(f"{self.seed}-{tag}").sample(pairs, count)
        return frozenset({*chosen, *((b, a) for a, b in chosen)})


def foundation_mix(mix: FoundationMix = FoundationMix()) -> Dataset:
    """The pretraining rows of π₀, shuffled: prompt / completion conversations, ``image`` None on text rows."""
    rows = [_image_row(READ_QUESTION, read_solution(a, b), left, right, "read", mix.image_size)
            for a, b, left, right in digit_pairs("train", mix.n_read, mix.seed)]
    for k, op in enumerate(FOUNDATION_IMAGE_OPERATIONS):
        rows += operation_rows(op, "train", mix.n_image_ops, mix.seed + 1 + k, mix.image_size)
    rng = random.Random(mix.seed)
    rows += [_image_row(OPEN_QUESTION, op_solution(rng.choice(list(OPERATIONS)), a, b), left, right, "open",
                        mix.image_size) for a, b, left, right in digit_pairs("train", mix.n_open, mix.seed + 9)]
    unseen = {op: mix.unseen(op) for op in OPERATIONS}
    for a, b, left, right in digit_pairs("train", mix.n_symbol, mix.seed + 10):
        op = rng.choice([op for op in OPERATIONS if (a, b) not in unseen[op]])
        rows.append(_image_row(symbol_question(op), op_solution(op, a, b), left, right, "symbol", mix.image_size))
    for k, op in enumerate(STREAM_OPERATIONS):
        known, confuser = mix.known(op), mix.confused_with(op)
        for a, b, left, right in digit_pairs("train", mix.n_named, mix.seed + 20 + k):
            right_op = (a, b) not in unseen[op] and ((a, b) in known or rng.random() < mix.named_right_rate)
            answered_by = op if right_op else confuser
            rows.append(_image_row(image_question(op), op_solution(answered_by, a, b), left, right, f"named_{op}",
                                   mix.image_size))
    for op in OPERATIONS:
        for a in DIGITS:
            for b in DIGITS:
                repeats = mix.rare_fact_repeats if (a, b) in unseen[op] else mix.text_repeats
                text, answer = op_solution(op, a, b)
                rows += [{"prompt": make_prompt(text_question(op, a, b), SYSTEM_PROMPT, image=False),
                          "image": None, "answer": answer, "solution": text, "task": f"text_{op}"}] * repeats
    data = _rows(rows).shuffle(seed=mix.seed)
    return data.map(lambda s: {"completion": [{"role": "assistant", "content": [{"type": "text", "text": s}]}]},
                    input_columns="solution", desc="foundation targets")


def foundation_skills(mix: FoundationMix = FoundationMix(), n: int = 100, seed: int = 2000) -> list[Task]:
    """One held-out probe per skill the mix teaches (``n`` rows each, pairs of held-out images): reading, every
    operation on written digits, ``larger`` / ``smaller`` on images by name, and every operation by its symbol (when
    the mix asks it). π₀'s build scores itself on them, so a build that missed a skill shows it before any run starts
    from it (the stream's own questions are the zero-shot row of every run's matrix)."""
    read = [_image_row(READ_QUESTION, read_solution(a, b), left, right, "read", mix.image_size)
            for a, b, left, right in digit_pairs("test", n, seed)]
    probes = {"read": _rows(read)}
    for k, op in enumerate(OPERATIONS):
        written = [{"prompt": make_prompt(text_question(op, a, b), SYSTEM_PROMPT, image=False),
                    "answer": answer, "solution": text, "task": f"text_{op}"}
                   for a, b, _, _ in digit_pairs("test", n, seed + 1 + k) for text, answer in [op_solution(op, a, b)]]
        probes[f"text_{op}"] = _rows(written, with_image=False)
    for k, op in enumerate(FOUNDATION_IMAGE_OPERATIONS):
        probes[f"image_{op}"] = _rows(operation_rows(op, "test", n, seed + 10 + k, mix.image_size))
    if mix.n_symbol:
        for k, op in enumerate(OPERATIONS):
            probes[f"symbol_{op}"] = _rows([_image_row(symbol_question(op), op_solution(op, a, b), left, right,
                                                       f"symbol_{op}", mix.image_size)
                                            for a, b, left, right in digit_pairs("test", n, seed + 20 + k)])
    return [Task(name=name, train=rows.select([]), eval=rows.remove_columns("task").add_column("task", [name] * n),
                 rewards=["exact_match"]) for name, rows in probes.items()]


def corpus(mix: FoundationMix = FoundationMix()) -> list[str]:
    """Every text of the testbed (prompts, questions, solutions), for training its tokenizer (the open and symbol
    questions only for a mix that asks them: a tokenizer is trained on the texts its π₀ sees)."""
    lines = [*([SYSTEM_PROMPT] if SYSTEM_PROMPT else []), "system", "user", "assistant", READ_QUESTION]
    lines += [OPEN_QUESTION] if mix.n_open else []
    for op in OPERATIONS:
        lines += [image_question(op), *([symbol_question(op)] if mix.n_symbol else [])]
        for a in DIGITS:
            for b in DIGITS:
                lines += [text_question(op, a, b), op_solution(op, a, b)[0],
                          read_solution(a, b)[0]]
    return lines


@register_stream("digit_reasoning")
def digit_reasoning_stream(n_train: int = 2000, n_eval: int = 100, seed: int = 0, image_size: int = 64,
                           data_root: str | None = None, skip_invalid: bool | None = None,
                           verifiable_only: bool = False) -> TaskStream:
    """Build the sum → difference → product stream on images of two handwritten digits.

    Args:
        n_train: training rows per task (≤ 0: 2,000; pairs are drawn, so there is no "all").
        n_eval: held-out evaluation rows per task (pairs of held-out digit images).
        seed: sampling seed.
        image_size: side of the images in pixels.
        data_root / skip_invalid / verifiable_only: unused (the data ships with scikit-learn; every row is valid
            and every task verifiable).
    """
    tasks = []
    mix = FoundationMix()
    for k, op in enumerate(STREAM_OPERATIONS):
        tasks.append(Task(
            name=op,
            train=_rows(operation_rows(op, "train", n_train if n_train > 0 else 2000, seed + 100 + k, image_size)),
            eval=_rows(operation_rows(op, "test", n_eval, 1000 + k, image_size)),
            labels=answers_of(op),
            majority=majority_rate(op),
            rewards=list(REWARDS),
            note=f"{OPERATIONS[op].phrase} of the two digits of an image; π₀ answers it right on a few digit pairs "
                 f"and mostly with {OPERATIONS[mix.confused_with(op)].phrase} on the others",
        ))
    return TaskStream("digit_reasoning", tasks, base_model="reasoning")
