"""LLaVA-style instruction files, the released format of CoIN, UCIT and MLLM-CL.

Train files are JSON arrays of ``{"id", "image", "conversations": [{"from": "human", "value": "<image>\\n…"},
{"from": "gpt", "value": answer}]}``; test files are JSON arrays of ``{"question_id", "image", "text", answer
field}`` (the answer field is ``answer``, or e.g. ``answer_bbox`` for CoIN grounding). ``image`` may be absent
(text-only ScienceQA questions). Only the first question–answer pair of a conversation is used.
"""

from __future__ import annotations

import json
from pathlib import Path

from task_streams.adapters.base import Adapter, RawSample, register_adapter, require_text
from task_streams.data_error import DataError


def source_file(source, data_root: Path | None, where: str) -> Path:
    """The local file of a source: under ``data_root``, absolute, or downloaded from the Hugging Face Hub."""
    if source.path is None:
        raise DataError(where, None, "path", "this task's source needs a `path` to its released file")
    if source.hub:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo_id=source.hub, filename=source.path, repo_type="dataset"))
    path = Path(source.path)
    if not path.is_absolute():
        if data_root is None:
            raise DataError(source.path, None, None, "relative data path but no --data_root given")
        path = data_root / path
    if not path.is_file():
        raise DataError(path, None, None, "file not found (is --data_root the folder holding the released files?)")
    return path


@register_adapter
class LlavaAdapter(Adapter):
    name = "llava"

    def records(self, task, source, data_root: Path | None) -> tuple[Path, list]:
        file = source_file(source, data_root, task.name)
        try:
            rows = json.loads(file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(file, None, None, f"not a readable JSON file: {exc}") from exc
        if not isinstance(rows, list):
            raise DataError(file, None, None, f"expected a JSON array of rows, got {type(rows).__name__}")
        return file, rows

    def sample(self, record, task, file: Path, row: int) -> RawSample:
        if not isinstance(record, dict):
            raise DataError(file, row, None, f"expected an object, got {type(record).__name__}")
        image = record.get("image")
        if image is not None and not isinstance(image, str):
            raise DataError(file, row, "image", f"expected a path string, got {type(image).__name__}")
        response = "conversations" in record
        if response:
            question, answer = self._first_turn(record["conversations"], file, row)
        else:
            question = require_text(record, "text", file, row)
            if record.get(task.answer_field) is None:
                raise DataError(file, row, task.answer_field, "missing answer")
            answer = record[task.answer_field]
        question = question.replace("<image>", "").strip()
        if not question:
            raise DataError(file, row, "conversations" if "conversations" in record else "text", "empty question")
        return RawSample(question, image, answer, response)

    @staticmethod
    def _first_turn(conversations, file: Path, row: int) -> tuple[str, str]:
        if not isinstance(conversations, list) or len(conversations) < 2:
            raise DataError(file, row, "conversations", "expected a list of at least a human and a gpt turn")
        turns = conversations[:2]
        if not all(isinstance(t, dict) and isinstance(t.get("value"), str) for t in turns):
            raise DataError(file, row, "conversations", "each turn needs a string `value`")
        speakers = [t.get("from") for t in turns]
        if speakers[0] not in ("human", "user") or speakers[1] not in ("gpt", "assistant"):
            raise DataError(file, row, "conversations", f"expected a human turn then a gpt turn, got {speakers}")
        if not turns[1]["value"].strip():
            raise DataError(file, row, "conversations", "empty answer (gpt turn)")
        return turns[0]["value"], turns[1]["value"].strip()
