"""Continual-learning metrics as pure functions of the accuracy matrix (DESIGN §5).

``acc[t][i]`` is the accuracy (percent) on task i after training task t; entries above the diagonal (tasks not yet
trained) may be numbers or None and never enter these figures.
"""

from __future__ import annotations

from statistics import mean


def _check(acc: list[list[float | None]]) -> int:
    n = len(acc)
    if n == 0:
        raise ValueError("acc: the accuracy matrix is empty.")
    for t, row in enumerate(acc):
        if len(row) != n:
            raise ValueError(f"acc: row {t} has {len(row)} entries, expected {n} (a T×T matrix).")
        for i in range(t + 1):
            if row[i] is None:
                raise ValueError(f"acc[{t}][{i}]: a trained task's accuracy is missing (None).")
    return n


def last(acc) -> float:
    """Mean accuracy over all tasks after the final task."""
    n = _check(acc)
    return mean(acc[n - 1])


def average(acc) -> float:
    """Mean over t of the mean accuracy on the tasks seen so far (MAA)."""
    n = _check(acc)
    return mean(mean(acc[t][: t + 1]) for t in range(n))


def mft(acc) -> float:
    """Mean accuracy of each task right after its own training."""
    n = _check(acc)
    return mean(acc[i][i] for i in range(n))


def bwt(acc) -> float | None:
    """Backward transfer: mean over earlier tasks of (final − just-trained); negative means forgetting."""
    n = _check(acc)
    return mean(acc[n - 1][i] - acc[i][i] for i in range(n - 1)) if n > 1 else None


def forgetting(acc) -> float | None:
    """Mean over earlier tasks of (best accuracy before the last task − final accuracy)."""
    n = _check(acc)
    if n < 2:
        return None
    return mean(max(acc[t][i] for t in range(i, n - 1)) - acc[n - 1][i] for i in range(n - 1))


def summarize(acc: list[list[float | None]]) -> dict[str, float | None]:
    """All stream metrics: ``last``, ``average``, ``mft``, ``bwt``, ``forgetting`` (None where undefined)."""
    return {"last": last(acc), "average": average(acc), "mft": mft(acc), "bwt": bwt(acc),
            "forgetting": forgetting(acc)}
