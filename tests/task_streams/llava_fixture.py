"""Write a miniature LLaVA-style release (CoIN, UCIT, MLLM-CL share it): instruction JSON files and image folders.

Train rows: ``{id | question_id, image, conversations: [{from: human, value: "<image>\\n…"}, {from: gpt, value}]}``;
test rows: ``{question_id, image, text, <answer field>}`` plus task extras. Images are small generated pictures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image


Row = tuple  # (image path or None, question, answer)


@dataclass
class FixtureTask:
    train_file: str
    eval_file: str
    train: list[Row]
    eval: list[Row]
    train_images: str
    eval_images: str
    answer_field: str = "answer"
    id_key: str = "id"
    extra: dict = field(default_factory=dict)  # extra keys of every test row (e.g. CoIN grounding's `size`)


def train_row(i: int, image: str | None, question: str, answer: str, id_key: str = "id") -> dict:
    row = {id_key: str(i)}
    if image:
        row["image"] = image
    prefix = "<image>\n" if image else ""
    row["conversations"] = [{"from": "human", "value": prefix + question}, {"from": "gpt", "value": answer}]
    return row


def test_row(i: int, image: str | None, question: str, answer, answer_field: str, extra: dict) -> dict:
    row = {"question_id": i, "text": question}
    if image:
        row["image"] = image
    return {**row, answer_field: answer, **extra}


def _image(path: Path, k: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), (40 * k % 255, 90, 160)).save(path, format="PNG" if path.suffix == ".png" else "JPEG")


def write_release(root: Path, tasks: dict[str, FixtureTask]) -> Path:
    """Write every task's files and images under ``root`` (the stream's ``--data_root``) and return it."""
    for task in tasks.values():
        for file, rows in ((task.train_file, [train_row(i, *r, id_key=task.id_key) for i, r in enumerate(task.train)]),
                           (task.eval_file, [test_row(i, *r, task.answer_field, task.extra)
                                             for i, r in enumerate(task.eval)])):
            (root / file).parent.mkdir(parents=True, exist_ok=True)
            (root / file).write_text(json.dumps(rows, indent=1))
        for k, (image, _, _) in enumerate(task.train):
            if image:
                _image(root / task.train_images / image, k)
        for k, (image, _, _) in enumerate(task.eval):
            if image:
                _image(root / task.eval_images / image, k + 7)
    return root
