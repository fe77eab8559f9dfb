"""Files written whole or not at all: a run directory, a sweep's recipes and a trainer's method state are read by
other processes (a resumed run, the other jobs of a sweep) while they may be rewritten."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write a file atomically: ``write`` fills a temporary file in the same directory, which is then renamed, so a
    reader (another process of the same sweep, a resumed run) sees the old content or the new one, never a
    half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Write text atomically (``write_atomic``)."""
    write_atomic(path, lambda tmp: tmp.write_text(text))


def write_json(path: Path, obj) -> None:
    """Write JSON atomically (``write_text_atomic``)."""
    write_text_atomic(path, json.dumps(obj, indent=2, default=str))


def read_json(path: Path):
    """The JSON content of ``path``, or None when there is no such file."""
    return json.loads(path.read_text()) if path.is_file() else None
