"""A stream declared in YAML: ordered tasks, each with its data sources, prompt, answer type, rewards and metric.

Shipped streams live in ``task_streams/streams/``; users point a recipe's ``stream`` at their own file.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import reward_fns
from task_streams.adapters import ADAPTERS


ANSWER_TYPES = ("text", "letter", "number", "box", "answers")
MODES = ("rl", "eval_only")


class StreamSpecError(ValueError):
    """A stream file that cannot be used; names the file and the key."""


@dataclass
class SourceSpec:
    """Where one split of a task comes from.

    Args:
        path: the released file, relative to ``--data_root`` (or absolute); with ``hub``, the file inside that
            Hugging Face dataset repository.
        hub: a Hugging Face dataset repository id to download ``path`` from.
        generator: a ``reasoning-gym`` dataset name (procedural, offline); ``config`` holds its options.
        seed: seed of the subsample (and of the generator).
        n: rows to use (None: the run's ``n_train`` / ``n_eval``; ≤ 0: all).
        image_root: folder this split's image paths are relative to, when it differs from the task's (MLLM-CL keeps
            test images in ``<Task>_test/``).
        references: a COCO caption annotation file whose captions of image ``i + 1`` are the references of row ``i``
            of ``path`` (UCIT's ``val_coco_type_3000.json``, matched by position as its ``eval_caption.py`` does);
            read by the ``llava_caption`` format.
    """

    path: str | None = None
    hub: str | None = None
    generator: str | None = None
    config: dict = field(default_factory=dict)
    seed: int = 0
    n: int | None = None
    image_root: str | None = None
    references: str | None = None


@dataclass
class TaskSpec:
    r"""One task. ``format`` names the adapter that reads its released files (``llava``, ``reasoning_gym``).

    ``answer_type``: ``text``, ``letter`` (multiple choice), ``number``, ``box`` ([x1, y1, x2, y2]) or ``answers``
    (a list of acceptable / human answers). ``answer_pattern``: a regular expression whose first group is the final
    answer inside a released reply (e.g. ``Answer:\s*(.+)$`` after a worked solution; test files' answer fields
    are used as they are). ``mode: eval_only``: a held-out task, evaluated before and after the stream, never
    trained. ``offline: false`` (with its ``reason``): a task whose released test answers are scored elsewhere (an
    evaluation server), listed but refused when a stream is built with it.
    """

    name: str
    format: str
    train: SourceSpec
    eval: SourceSpec
    answer_type: str = "text"
    answer_field: str = "answer"
    answer_pattern: str | None = None
    rewards: list = field(default_factory=lambda: ["exact_match", "format"])
    metric: str | dict = "exact_match"
    question_template: str = "{question}"
    system_prompt: str | None = None
    image_root: str | None = None
    skip_invalid: bool | None = None
    mode: str = "rl"
    note: str = ""
    offline: bool = True
    reason: str = ""

    @property
    def verifiable(self) -> bool:
        """True when its metric and every reward are verifiable checks; a reward function declares itself dense
        with a ``verifiable = False`` attribute (``cider``). Functions without the attribute count as verifiable."""
        return all(getattr(reward_fns.resolve(reward_fns.RewardSpec.parse(item).name), "verifiable", True)
                   for item in [*self.rewards, self.metric])

    @property
    def kind(self) -> str:
        """How the task is scored, as ``python -m task_streams list`` marks it."""
        return ("verifiable" if self.verifiable else "dense") + ("" if self.offline else ", remote")


@dataclass
class StreamSpec:
    name: str
    tasks: list[TaskSpec]
    description: str = ""
    system_prompt: str | None = None
    image_root: str = "."
    skip_invalid: bool = False
    source_file: str = ""

    def describe(self) -> str:
        return f"{self.name}: {len(self.tasks)} tasks ({' → '.join(t.name for t in self.tasks)})"

    def selected(self, verifiable_only: bool = False) -> StreamSpec:
        """The tasks a run builds: with ``verifiable_only`` those with a verifiable metric that can be scored offline
        (the stream keeps its published order); otherwise all, refusing a task that cannot be scored offline."""
        if verifiable_only:
            tasks = [t for t in self.tasks if t.verifiable and t.offline]
            if not tasks:
                raise StreamSpecError(f"{self.source_file}: stream {self.name!r} has no verifiable task that can be "
                                      "scored offline; run it without verifiable_only.")
            return dataclasses.replace(self, tasks=tasks)
        for task in self.tasks:
            if not task.offline:
                raise StreamSpecError(f"stream {self.name!r}: task {task.name!r} cannot be scored offline "
                                      f"({task.reason or 'no local answer key'}); pass --verifiable_only true to "
                                      "drop it, or remove it from a copy of the stream file.")
        return self


def _build(cls, data, where: str):
    """``cls(**data)`` with unknown keys, missing keys and wrong types reported by their YAML path."""
    if not isinstance(data, dict):
        raise StreamSpecError(f"{where}: expected a mapping, got {data!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields) - {"source_file"})
    if unknown:
        raise StreamSpecError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(fields)}.")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise StreamSpecError(f"{where}: missing key '{name}'.")
            continue
        value = data[name]
        if name in ("train", "eval"):
            value = _build(SourceSpec, value, f"{where}.{name}")
        elif name == "tasks":
            if not isinstance(value, list) or not value:
                raise StreamSpecError(f"{where}.tasks: expected a non-empty list of tasks.")
            value = [_build(TaskSpec, t, f"{where}.tasks[{i}]") for i, t in enumerate(value)]
        else:
            allowed = tuple(t for t in (typing.get_args(hints[name]) or (hints[name],)) if isinstance(t, type))
            allowed = tuple(typing.get_origin(t) or t for t in allowed)
            ok = isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)
            if not ok and not (value is None and type(None) in allowed):
                raise StreamSpecError(f"{where}.{name}: expected {' or '.join(t.__name__ for t in allowed)}, "
                                      f"got {value!r}.")
        values[name] = value
    return cls(**values)


def load_stream_spec(path: str | Path) -> StreamSpec:
    """Parse and check a stream file; every problem names the file and the key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise StreamSpecError(f"{path}: cannot read the stream file: {exc}") from exc
    spec = _build(StreamSpec, data, str(path))
    spec.source_file = str(path)
    names = [t.name for t in spec.tasks]
    if len(set(names)) != len(names):
        raise StreamSpecError(f"{path}: task names must be unique, got {names}.")
    for i, task in enumerate(spec.tasks):
        where = f"{path}: tasks[{i}] ({task.name})"
        if task.format not in ADAPTERS:
            raise StreamSpecError(f"{where}.format: unknown format {task.format!r}; choose one of {sorted(ADAPTERS)}.")
        if task.answer_type not in ANSWER_TYPES:
            raise StreamSpecError(f"{where}.answer_type: unknown answer type {task.answer_type!r}; choose one of "
                                  f"{list(ANSWER_TYPES)}.")
        if task.mode not in MODES:
            raise StreamSpecError(f"{where}.mode: must be one of {list(MODES)}, got {task.mode!r}.")
        if not task.offline and not task.reason.strip():
            raise StreamSpecError(f"{where}.reason: a task with `offline: false` says why (where it is scored).")
        if task.answer_pattern is not None:
            try:
                if re.compile(task.answer_pattern).groups < 1:
                    raise re.error("needs one capture group for the answer")
            except re.error as exc:
                raise StreamSpecError(f"{where}.answer_pattern: {exc}") from exc
        if "{question}" not in task.question_template:
            raise StreamSpecError(f"{where}.question_template: must contain '{{question}}'.")
        for j, item in enumerate([*task.rewards, task.metric]):
            key = f"rewards[{j}]" if j < len(task.rewards) else "metric"
            try:
                reward_fns.RewardSpec.checked(item, where=f"{where}.{key}")
            except ValueError as exc:
                raise StreamSpecError(str(exc)) from exc
    return spec
