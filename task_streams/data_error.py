"""Bad input in a stream's released files: errors that name the file, the row and the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class DataError(ValueError):
    """A row that cannot become a training or evaluation sample."""

    def __init__(self, file: str | Path, row: int | None, field_name: str | None, problem: str):
        self.file, self.row, self.field, self.problem = str(file), row, field_name, problem
        where = self.file + (f", row {row}" if row is not None else "")
        where += f", field '{field_name}'" if field_name else ""
        super().__init__(f"{where}: {problem}")


@dataclass
class SkipLog:
    """Rows left out with ``skip_invalid: true``: counted per split and reported, first messages kept."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    missing_images: int = 0

    def add(self, split: str, error: DataError) -> None:
        self.counts[split] = self.counts.get(split, 0) + 1
        self.missing_images += error.field == "image" and error.problem.startswith("image ")
        if len(self.examples) < 20:
            self.examples.append(str(error))

    @property
    def total(self) -> int:
        return sum(self.counts.values())
