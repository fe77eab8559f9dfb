"""The adapter interface: the released records of one split, and one record turned into a raw sample."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from task_streams.data_error import DataError


@dataclass
class RawSample:
    """A record as the benchmark states it: question text, image path relative to the image root (or None) and
    the ground truth in the released form (checked against the task's answer type afterwards). ``response`` marks an
    answer written as a reply (a conversation's gpt turn), from which a task's ``answer_pattern`` takes the final
    answer; answer fields of test files are final answers already."""

    question: str
    image: str | None
    answer: Any
    response: bool = False


class Adapter:
    """Reads one benchmark family. ``records`` loads a split's rows (text only, no images decoded); ``sample``
    turns one row into a ``RawSample`` or raises ``DataError`` naming file, row and field."""

    name: ClassVar[str]

    def records(self, task, source, data_root: Path | None) -> tuple[Path, list]:
        raise NotImplementedError

    def sample(self, record: Any, task, file: Path, row: int) -> RawSample:
        raise NotImplementedError


ADAPTERS: dict[str, type[Adapter]] = {}


def register_adapter(cls: type[Adapter]) -> type[Adapter]:
    ADAPTERS[cls.name] = cls
    return cls


def require_text(record: dict, key: str, file: Path, row: int) -> str:
    value = record.get(key)
    if value is None:
        raise DataError(file, row, key, "missing")
    if not isinstance(value, str):
        raise DataError(file, row, key, f"expected a string, got {type(value).__name__}")
    if not value.strip():
        raise DataError(file, row, key, "empty")
    return value
