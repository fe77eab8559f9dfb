"""A task's rewards as TRL calls them: weighted, routed to the task's own samples, and guarded against errors.

In a mixed batch (replay, multi-task runs) each sample carries its task's name in the ``task`` column; a
``TaskReward`` scores only its own task's samples and returns None for the others (TRL then ignores it for them).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reward_fns.parsing import completion_text
from reward_fns.registry import RewardFunc, get, resolve


ON_ERROR = ("raise", "zero")


class RewardError(RuntimeError):
    """A reward function raised on a sample (or broke TRL's contract); names the reward, task and sample."""


@dataclass(frozen=True)
class RewardSpec:
    """One reward of a task as a recipe names it: ``exact_match``, or ``{name: iou, weight: 0.5, params: {...}}``.

    ``name`` is a built-in, ``package.module:function`` or ``path/to/file.py:function``; ``params`` are bound as
    keyword arguments (e.g. ``{rel_tol: 0.05}`` for ``numeric``).
    """

    name: str
    weight: float = 1.0
    params: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, item: Any, where: str = "reward") -> RewardSpec:
        if isinstance(item, RewardSpec):
            return item
        if isinstance(item, str) and item:
            return cls(item)
        if isinstance(item, dict):
            unknown = set(item) - {"name", "weight", "params"}
            if unknown or not isinstance(item.get("name"), str):
                raise ValueError(f"{where}: a reward is a name or a mapping with keys name, weight, params; got "
                                 f"{item!r}" + (f" (unknown keys {sorted(unknown)})" if unknown else "") + ".")
            weight, params = item.get("weight", 1.0), item.get("params") or {}
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not isinstance(params, dict):
                raise ValueError(f"{where}: {item['name']!r} needs a numeric weight and a mapping of params, got "
                                 f"weight={weight!r}, params={params!r}.")
            return cls(item["name"], float(weight), dict(params))
        raise ValueError(f"{where}: a reward is a name or a mapping with keys name, weight, params; got {item!r}.")

    @classmethod
    def checked(cls, item: Any, where: str = "reward") -> RewardSpec:
        """``parse`` plus resolving the function now, so that a recipe or stream file with a typo fails at load time
        with a ``ValueError`` naming ``where`` (a parameter value the reward's ``check_params`` refuses, too)."""
        spec = cls.parse(item, where)
        try:
            spec.function()
        except (KeyError, AttributeError, FileNotFoundError, ImportError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from exc
        return spec

    def function(self, defaults: dict | None = None) -> RewardFunc:
        """The callable, with ``params`` bound; run-level ``defaults`` fill parameters the function declares."""
        accepted = inspect.signature(resolve(self.name)).parameters
        filled = {k: v for k, v in (defaults or {}).items() if k in accepted and k not in self.params}
        return get(self.name, **filled, **self.params)


def _ignore(*args, **kwargs) -> None:
    return None


def score(fn: Callable, **kwargs) -> list:
    """Call a reward outside a trainer (evaluation, anchor rollouts): sync or async alike, with the keyword
    arguments TRL would add (``trainer_state`` None, ``log_metric`` / ``log_extra`` ignored) unless given."""
    for key in ("log_metric", "log_extra"):
        kwargs.setdefault(key, _ignore)
    kwargs.setdefault("trainer_state", None)
    result = fn(**kwargs)
    return asyncio.run(result) if inspect.isawaitable(result) else result


# per row: columns a multi-task dataset holds as JSON text (rdbcl.methods.replay_buffer)
ENCODED_COLUMNS = "json_columns"


def decoded(columns: dict) -> dict:
    """Per-sample columns of a batch mixing tasks whose column types differ, back to each row's own values: a row's
    ``json_columns`` names the columns stored as JSON text for it (e.g. one task's letter answers beside another's
    lists of human answers).

    >>> decoded({"answer": ['"B"', '["stop", "halt"]'], "json_columns": [["answer"], ["answer"]]})["answer"]
    ['B', ['stop', 'halt']]
    """
    marks = columns.get(ENCODED_COLUMNS)
    if not isinstance(marks, list) or not any(marks):
        return columns
    out = dict(columns)
    for name in {c for m in marks if m for c in m}:
        if isinstance(out.get(name), list):
            out[name] = [json.loads(v) if m and name in m and isinstance(v, str) else v
                         for v, m in zip(out[name], marks, strict=True)]
    return out


@dataclass
class _Batch:
    """The samples of one call that belong to this task, with every per-sample column sliced to them."""

    own: list[int]
    n: int
    completions: list
    kwargs: dict

    @classmethod
    def select(cls, completions: list, kwargs: dict, task: str | None) -> _Batch:
        n = len(completions)
        tasks = kwargs.get("task")
        if task is None or not isinstance(tasks, list) or len(tasks) != n:
            own = list(range(n))
        else:
            own = [i for i, t in enumerate(tasks) if t == task]
        sliced = {k: [v[i] for i in own] if isinstance(v, list) and len(v) == n else v for k, v in kwargs.items()}
        return cls(own, n, [completions[i] for i in own], decoded(sliced))

    def row(self, j: int) -> tuple[list, dict]:
        m = len(self.own)
        return [self.completions[j]], {k: [v[j]] if isinstance(v, list) and len(v) == m else v
                                       for k, v in self.kwargs.items()}

    def scatter(self, scores: list) -> list:
        out: list = [None] * self.n
        for i, s in zip(self.own, scores, strict=True):
            out[i] = s
        return out


class TaskReward:
    """One reward of one task, called by TRL like the function it wraps (its ``__name__`` is the metric name).

    Args:
        spec: the reward (name, weight, params).
        task: the task whose samples it scores (None: every sample).
        on_error: ``raise`` — a reward that raises stops training with an error naming reward, task and sample;
            ``zero`` — the sample scores 0, ``errors`` counts it and ``reward_errors/<name>`` is logged.
        defaults: run-level parameters (e.g. ``max_length``) for functions that declare them.
        name: metric name (default: the spec's name).
    """

    def __init__(self, spec: RewardSpec, task: str | None = None, on_error: str = "raise",
                 defaults: dict | None = None, name: str | None = None):
        if on_error not in ON_ERROR:
            raise ValueError(f"on_reward_error: must be one of {ON_ERROR}, got {on_error!r}.")
        self.spec, self.task, self.on_error = spec, task, on_error
        self.fn = spec.function(defaults)
        self.__name__ = name or spec.name.rpartition(":")[2]
        self.errors = 0

    def __repr__(self) -> str:
        return f"TaskReward({self.__name__!r}, task={self.task!r}, weight={self.spec.weight})"

    def _checked(self, scores, expected: int) -> list:
        if not isinstance(scores, (list, tuple)) or len(scores) != expected:
            got = len(scores) if isinstance(scores, (list, tuple)) else type(scores).__name__
            raise RewardError(f"Reward {self.__name__!r} (task {self.task!r}) returned {got} scores for "
                              f"{expected} completions; a reward returns one float (or None) per completion.")
        return list(scores)

    def _failed(self, exc: Exception, batch: _Batch, j: int, log_metric) -> float:
        if self.on_error == "raise":
            text = completion_text(batch.completions[j])
            raise RewardError(f"Reward {self.__name__!r} of task {self.task!r} raised on sample {batch.own[j]} of "
                              f"the batch: {type(exc).__name__}: {exc}. Completion: {text[:200]!r}. "
                              "Set `on_reward_error: zero` to score such samples 0 and count them.") from exc
        self.errors += 1
        if callable(log_metric):
            log_metric(f"reward_errors/{self.__name__}", float(self.errors))
        return 0.0

    def __call__(self, completions: list, **kwargs) -> list:
        batch = _Batch.select(completions, kwargs, self.task)
        if not batch.own:
            return [None] * batch.n
        try:
            scores = self.fn(completions=batch.completions, **batch.kwargs)
        except RewardError:
            raise
        except Exception:  # noqa: BLE001 — find the samples it fails on
            scores = [self._one(batch, j, kwargs.get("log_metric")) for j in range(len(batch.own))]
        return batch.scatter(self._checked(scores, len(batch.own)))

    def _one(self, batch: _Batch, j: int, log_metric) -> float | None:
        completions, kwargs = batch.row(j)
        try:
            return self._checked(self.fn(completions=completions, **kwargs), 1)[0]
        except RewardError:
            raise
        except Exception as exc:  # noqa: BLE001
            return self._failed(exc, batch, j, log_metric)


class AsyncTaskReward(TaskReward):
    """``TaskReward`` for an ``async`` reward function: TRL awaits it on its event loop, alongside the others."""

    async def __call__(self, completions: list, **kwargs) -> list:
        batch = _Batch.select(completions, kwargs, self.task)
        if not batch.own:
            return [None] * batch.n
        try:
            scores = await self.fn(completions=batch.completions, **batch.kwargs)
        except RewardError:
            raise
        except Exception:  # noqa: BLE001
            scores = [await self._one(batch, j, kwargs.get("log_metric")) for j in range(len(batch.own))]
        return batch.scatter(self._checked(scores, len(batch.own)))

    async def _one(self, batch: _Batch, j: int, log_metric) -> float | None:
        completions, kwargs = batch.row(j)
        try:
            return self._checked(await self.fn(completions=completions, **kwargs), 1)[0]
        except RewardError:
            raise
        except Exception as exc:  # noqa: BLE001
            return self._failed(exc, batch, j, log_metric)


def _is_async(fn: Callable) -> bool:
    inner = getattr(fn, "func", fn)  # functools.partial
    return inspect.iscoroutinefunction(inner) or inspect.iscoroutinefunction(type(inner).__call__)


def task_reward(spec: Any, task: str | None = None, on_error: str = "raise", defaults: dict | None = None,
                name: str | None = None) -> TaskReward:
    """A ``TaskReward`` (async-aware) for one spec: a name, a mapping, or a ``RewardSpec``."""
    spec = RewardSpec.parse(spec, where=f"rewards of task {task!r}")
    cls = AsyncTaskReward if _is_async(spec.function(defaults)) else TaskReward
    return cls(spec, task, on_error, defaults, name)


def task_rewards(specs: list, task: str | None = None, on_error: str = "raise", defaults: dict | None = None,
                 qualify: bool = False) -> tuple[list[TaskReward], list[float]]:
    """A task's reward functions and weights, for ``GRPOTrainer(reward_funcs=...)`` and ``reward_weights``.

    With ``qualify`` the metric names are ``task/name``, so that several tasks' rewards can share one trainer.
    """
    if not specs:
        raise ValueError(f"Task {task!r} has no rewards; name at least one (e.g. `exact_match`).")
    funcs = [task_reward(s, task, on_error, defaults) for s in specs]
    if qualify:
        for f in funcs:
            f.__name__ = f"{task}/{f.__name__}"
    names = [f.__name__ for f in funcs]
    if len(set(names)) != len(names):
        raise ValueError(f"Task {task!r} names a reward twice ({names}); combine them with a weight instead.")
    return funcs, [f.spec.weight for f in funcs]
