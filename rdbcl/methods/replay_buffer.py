"""A bounded buffer of earlier tasks' training rows, mixed into a new task's data at a fixed ratio.

Rows keep their ``task`` column, so RL methods that replay can score each row with its own task's rewards.
"""

from __future__ import annotations

import json
import random

from datasets import Dataset, Features, Sequence, Value, concatenate_datasets

from reward_fns.routing import ENCODED_COLUMNS


STRATEGIES = ("reservoir", "per_task")


def concatenated(parts: list[Dataset]) -> Dataset:
    """Rows of several tasks as one dataset, although tasks differ in their columns and column types.

    A text-only task has no ``image`` column; ``answer`` is a letter in one task, a list of human answers or a box in
    another, and Arrow holds one type per column. A column some task lacks is added to it as None; a column whose
    type differs between tasks is stored as JSON text, named per row in ``json_columns``, so that rewards and SFT
    targets see each row's own value again (``reward_fns.routing.decoded``). Tasks of one type concatenate as they
    are.
    """
    if len(parts) == 1:
        return parts[0]
    names = list(dict.fromkeys(c for part in parts for c in part.column_names))
    kinds = {c: [part.features[c] for part in parts if c in part.column_names] for c in names}
    conflicting = sorted(c for c, found in kinds.items() if any(f != found[0] for f in found[1:]))
    aligned = []
    for part in parts:
        for c in names:
            if c not in part.column_names:
                part = part.add_column(c, [None] * len(part), feature=kinds[c][0])
        if conflicting:
            part = part.map(lambda *values: {**{c: json.dumps(v) for c, v in zip(conflicting, values, strict=True)},
                                             ENCODED_COLUMNS: conflicting},
                            input_columns=conflicting, desc="replay: align task columns")
            part = part.cast(Features({**part.features, **{c: Value("string") for c in conflicting},
                                       ENCODED_COLUMNS: Sequence(Value("string"))}))
        aligned.append(part.select_columns([*names, *([ENCODED_COLUMNS] if conflicting else [])]))
    return concatenate_datasets(aligned)


class ReplayBuffer:
    """``reservoir``: uniform over every row seen (Vitter's algorithm R); ``per_task``: an equal quota per task.

    Stores row indices into the tasks' datasets, not copies of the rows (images stay where they are).
    """

    def __init__(self, capacity: int, strategy: str = "reservoir", seed: int = 0):
        if strategy not in STRATEGIES:
            raise ValueError(f"replay_strategy: must be one of {STRATEGIES}, got {strategy!r}.")
        if capacity < 1:
            raise ValueError(f"replay_buffer_size: must be >= 1, got {capacity}.")
        self.capacity, self.strategy = capacity, strategy
        self.rng = random.Random(seed)
        self.datasets: dict[str, Dataset] = {}
        self.slots: list[tuple[str, int]] = []
        self.seen = 0

    def add(self, task: str, data: Dataset) -> None:
        self.datasets[task] = data
        if self.strategy == "per_task":
            quota = self.capacity // len(self.datasets)
            kept = {t: [s for s in self.slots if s[0] == t][:quota] for t in self.datasets if t != task}
            new = [(task, i) for i in self.rng.sample(range(len(data)), min(quota, len(data)))]
            self.slots = [s for slots in kept.values() for s in slots] + new
            return
        for i in range(len(data)):  # reservoir sampling over the stream of rows
            self.seen += 1
            if len(self.slots) < self.capacity:
                self.slots.append((task, i))
            else:
                j = self.rng.randrange(self.seen)
                if j < self.capacity:
                    self.slots[j] = (task, i)

    def __len__(self) -> int:
        return len(self.slots)

    def sample(self, n: int) -> Dataset | None:
        """``n`` buffered rows (with replacement when the buffer is smaller), as one dataset."""
        parts = self.sample_parts(n)
        return None if parts is None else concatenated(parts)

    def sample_parts(self, n: int) -> list[Dataset] | None:
        """``n`` buffered rows (with replacement when the buffer is smaller), one dataset per task."""
        if not self.slots or n <= 0:
            return None
        picks = [self.slots[self.rng.randrange(len(self.slots))] for _ in range(n)]
        parts = []
        for task in self.datasets:
            idx = [i for t, i in picks if t == task]
            if idx:
                parts.append(self.datasets[task].select(idx))
        return parts

    def mix(self, data: Dataset, ratio: float) -> Dataset:
        """``data`` plus buffered rows so that ``ratio`` of the result is replay, shuffled (see ``concatenated`` for
        tasks whose columns differ)."""
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f"replay_ratio: must be in [0, 1), got {ratio}.")
        replay = self.sample_parts(round(ratio * len(data) / (1.0 - ratio)))
        if replay is None:
            return data
        return concatenated([data, *replay]).shuffle(seed=self.rng.randrange(2**31))

    def state_dict(self) -> dict:
        return {"slots": list(self.slots), "seen": self.seen, "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict, datasets: dict[str, Dataset]) -> None:
        self.slots, self.seen = [tuple(s) for s in state["slots"]], state["seen"]
        self.rng.setstate(state["rng"])
        self.datasets = datasets
