"""Build a ``TaskStream`` from a stream file: read each task's released records through its adapter, check every
used row against the task's answer type, and keep images as paths (decoded lazily by ``datasets``)."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

from datasets import Dataset, Features, Image, Sequence, Value

from reward_fns.boxes import parse_box
from reward_fns.multiple_choice import chosen_letter
from reward_fns.parsing import to_number
from task_streams.adapters import ADAPTERS
from task_streams.base import REASONING_SYSTEM_PROMPT, Task, TaskStream, make_prompt
from task_streams.data_error import DataError, SkipLog
from task_streams.images import resolve_image
from task_streams.spec import StreamSpec, TaskSpec


# Stream files ask for R1-style reasoning by default, with the tags exactly as the `format` reward checks them
# (one <think> span, then one <answer> span). A stream that does not ask for reasoning sets its own `system_prompt`
# and `format`'s `think: optional`.


def checked_answer(value, answer_type: str, file, row: int, field_name: str):
    """The ground truth in its column type, or ``DataError`` when it does not fit the task's answer type."""
    if answer_type == "answers":
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, (str, int, float)) and str(v).strip() for v in values):
            raise DataError(file, row, field_name, f"expected a non-empty answer or list of answers, got {value!r}")
        return [str(v) for v in values]
    if answer_type == "box":
        box = parse_box(value)
        if box is None:
            raise DataError(file, row, field_name, f"expected a box [x1, y1, x2, y2], got {value!r}")
        if box[0] == box[2] or box[1] == box[3]:  # IoU with a zero-area box is 0 for every prediction
            raise DataError(file, row, field_name, f"zero-area box {list(box)}: no prediction could score on it")
        return list(box)
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
        raise DataError(file, row, field_name, f"expected a {answer_type} answer, got {value!r}")
    text = str(value).strip()
    if answer_type == "letter" and chosen_letter(text) is None:
        raise DataError(file, row, field_name, f"expected an option letter (A, (B), C. …), got {text!r}")
    if answer_type == "number" and to_number(text) is None:
        raise DataError(file, row, field_name, f"expected a number, got {text!r}")
    return chosen_letter(text) if answer_type == "letter" else text


def _features(answer_type: str, with_images: bool) -> Features:
    part = {"type": Value("string"), "text": Value("string")}
    columns = {"prompt": [{"role": Value("string"), "content": [part]}]}
    if with_images:
        columns["image"] = Image()
    columns["answer"] = {"box": Sequence(Value("float64")), "answers": Sequence(Value("string"))}.get(
        answer_type, Value("string"))
    columns["task"] = Value("string")
    return Features(columns)


class TaskBuilder:
    """One task's datasets from its spec: sampled, checked, prompts built; bad rows raise or are skipped."""

    def __init__(self, spec: TaskSpec, stream: StreamSpec, data_root: Path | None, skip_invalid: bool | None = None):
        self.spec, self.stream, self.data_root = spec, stream, data_root
        self.adapter = ADAPTERS[spec.format]()
        if skip_invalid is None:
            skip_invalid = stream.skip_invalid if spec.skip_invalid is None else spec.skip_invalid
        self.skip_invalid = skip_invalid
        self.skipped = SkipLog()
        self.answer_re = re.compile(spec.answer_pattern, re.DOTALL | re.MULTILINE) if spec.answer_pattern else None

    def image_root(self, source) -> Path:
        root = Path(source.image_root or self.spec.image_root or self.stream.image_root)
        return root if root.is_absolute() or self.data_root is None else self.data_root / root

    def split(self, name: str, n: int, seed_offset: int = 0, allow_empty: bool = False) -> Dataset:
        spec = self.spec
        source = getattr(spec, name)
        n = source.n if source.n is not None else n
        source = dataclasses.replace(source, n=n)
        file, records = self.adapter.records(spec, source, self.data_root)
        image_root = self.image_root(source)
        order = list(range(len(records)))
        random.Random(source.seed + seed_offset).shuffle(order)
        rows = []
        for i in order:
            if 0 < n <= len(rows):
                break
            try:
                rows.append(self._row(records[i], file, i, image_root))
            except DataError as error:
                if not self.skip_invalid:
                    raise
                self.skipped.add(name, error)
        if not rows and not allow_empty:
            raise DataError(file, None, None, f"no usable rows for task {spec.name!r} ({name} split)")
        with_images = any(r.get("image") for r in rows)
        if with_images:
            for r in rows:
                r.setdefault("image", None)
        features = _features(spec.answer_type, with_images)
        return Dataset.from_dict({k: [r[k] for r in rows] for k in features}, features=features)

    def _row(self, record, file: Path, i: int, image_root: Path) -> dict:
        spec = self.spec
        raw = self.adapter.sample(record, spec, file, i)
        if self.answer_re is not None and raw.response and isinstance(raw.answer, str):
            found = self.answer_re.search(raw.answer)
            if not found:
                raise DataError(file, i, spec.answer_field, f"no final answer matching {spec.answer_pattern!r} "
                                f"in {raw.answer[-80:]!r}")
            raw.answer = found.group(1).strip()
        system = spec.system_prompt or self.stream.system_prompt or REASONING_SYSTEM_PROMPT
        question = spec.question_template.format(question=raw.question)
        row = {"prompt": make_prompt(question, system, image=raw.image is not None),
               "answer": checked_answer(raw.answer, spec.answer_type, file, i, spec.answer_field), "task": spec.name}
        if raw.image is not None:
            row["image"] = resolve_image(image_root, raw.image, file, i)
        return row


def build_stream(spec: StreamSpec, data_root: str | Path | None = None, n_train: int = 2000, n_eval: int = 100,
                 seed: int = 0, skip_invalid: bool | None = None, logs: dict | None = None,
                 verifiable_only: bool = False) -> TaskStream:
    """Every task of ``spec`` as a ``Task``; skipped rows (``skip_invalid``) are counted in ``Task.skipped``.

    ``skip_invalid`` overrides the stream's setting; ``logs`` (task name → ``SkipLog``) receives what was skipped.
    ``verifiable_only`` keeps the tasks with a verifiable, offline metric; without it a task that cannot be scored
    offline is refused (``StreamSpec.selected``).
    """
    spec = spec.selected(verifiable_only)
    root = Path(data_root).expanduser() if data_root else None
    tasks = []
    for task_spec in spec.tasks:
        builder = TaskBuilder(task_spec, spec, root, skip_invalid)
        if logs is not None:
            logs[task_spec.name] = builder.skipped
        train = builder.split("train", n_train, seed)
        evaluation = builder.split("eval", n_eval, seed)
        tasks.append(Task(name=task_spec.name, train=train, eval=evaluation, rewards=list(task_spec.rewards),
                          metric=task_spec.metric, mode=task_spec.mode, note=task_spec.note,
                          skipped=dict(builder.skipped.counts)))
    return TaskStream(spec.name, tasks)
