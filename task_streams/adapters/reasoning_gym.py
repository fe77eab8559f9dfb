"""Procedural text reasoning tasks from ``reasoning-gym`` (offline generators with known answers)."""

from __future__ import annotations

from pathlib import Path

from task_streams.adapters.base import Adapter, RawSample, register_adapter, require_text
from task_streams.data_error import DataError


@register_adapter
class ReasoningGymAdapter(Adapter):
    """``source.generator`` names a reasoning-gym dataset; ``source.config`` its options; ``source.seed`` makes the
    items reproducible (use different seeds for train and eval so evaluation is held out)."""

    name = "reasoning_gym"
    default_size = 1000

    def records(self, task, source, data_root: Path | None) -> tuple[Path, list]:
        try:
            import reasoning_gym
        except ImportError as exc:
            raise DataError(task.name, None, "generator", "needs `pip install reasoning-gym==0.1.25` "
                            "(the `reasoning` extra)") from exc
        if not source.generator:
            raise DataError(task.name, None, "generator", "a reasoning_gym source names its `generator`")
        size = source.n if source.n and source.n > 0 else self.default_size
        try:
            dataset = reasoning_gym.create_dataset(source.generator, size=size, seed=source.seed, **source.config)
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            raise DataError(f"reasoning_gym:{source.generator}", None, "config", str(exc)) from exc
        return Path(f"reasoning_gym:{source.generator}"), [dataset[i] for i in range(len(dataset))]

    def sample(self, record, task, file: Path, row: int) -> RawSample:
        if not isinstance(record, dict):
            raise DataError(file, row, None, "expected an item dict")
        question = require_text(record, "question", file, row)
        if record.get("answer") is None:
            raise DataError(file, row, "answer", "this generator gives no oracle answer (not verifiable by match)")
        return RawSample(question, None, str(record["answer"]))
