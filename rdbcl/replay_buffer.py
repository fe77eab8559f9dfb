"""A bounded buffer of earlier tasks' training rows, mixed into a new task's data at a fixed ratio.

Rows keep their ``task`` column, so RL methods that replay can score each row with its own task's rewards.
"""

from __future__ import annotations

import random

from datasets import Dataset, concatenate_datasets


STRATEGIES = ("reservoir", "per_task")


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
        if not self.slots or n <= 0:
            return None
        picks = [self.slots[self.rng.randrange(len(self.slots))] for _ in range(n)]
        parts = []
        for task in self.datasets:
            idx = [i for t, i in picks if t == task]
            if idx:
                parts.append(self.datasets[task].select(idx))
        return concatenate_datasets(parts)

    def mix(self, data: Dataset, ratio: float) -> Dataset:
        """``data`` plus buffered rows so that ``ratio`` of the result is replay, shuffled."""
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f"replay_ratio: must be in [0, 1), got {ratio}.")
        replay = self.sample(round(ratio * len(data) / (1.0 - ratio)))
        if replay is None:
            return data
        return concatenate_datasets([data, replay.cast(data.features)]).shuffle(seed=self.rng.randrange(2**31))

    def state_dict(self) -> dict:
        return {"slots": list(self.slots), "seen": self.seen, "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict, datasets: dict[str, Dataset]) -> None:
        self.slots, self.seen = [tuple(s) for s in state["slots"]], state["seen"]
        self.rng.setstate(state["rng"])
        self.datasets = datasets
