"""The method interface: every continual method (RL or SFT) plugs into the same stream loop, evaluation and report."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar


if TYPE_CHECKING:
    from peft import PeftConfig
    from transformers import PreTrainedModel, ProcessorMixin

    from rdbcl.config import ContinualConfig
    from task_streams import Task, TaskStream


@dataclass
class TaskContext:
    """Everything a method needs to train one task of the stream.

    Attributes:
        index: position of the task in the stream (0-based).
        task: the task to train.
        stream: the whole stream (methods that replay or regularise toward earlier tasks read it).
        policy: the current policy π_{k−1}, a plain (merged) model; the method returns π_k.
        anchor_path: saved checkpoint of the KL anchor (π_{k−1}, or π_0 with ``anchor: base``).
        processor: the model's processor (tokenizer + image processor), or a text-only model's tokenizer.
        args: the run's configuration; ``task_args`` derives the per-task copy.
        peft_config: LoRA config, or None for full fine-tuning.
        output_dir: this task's working directory.
        resume_from: the task's last trainer checkpoint when an interrupted run is continued (None: start fresh).
    """

    index: int
    task: Task
    stream: TaskStream
    policy: PreTrainedModel
    anchor_path: Path
    processor: ProcessorMixin
    args: ContinualConfig
    peft_config: PeftConfig | None
    output_dir: Path
    resume_from: str | None = None
    log: dict[str, Any] = field(default_factory=dict)

    def task_args(self, config_cls=None, **overrides):
        """Per-task training arguments: a copy of the run's, writing into this task's directory."""
        args = copy.copy(self.args)
        args.output_dir = str(self.output_dir)
        args.run_name = f"{self.args.run_name or 'rdbcl'}/task{self.index}-{self.task.name}"
        # The loop saves each task's policy itself; trainer checkpoints are resume points inside a task.
        args.save_strategy = "no"
        if self.args.checkpoint_steps > 0:
            args.save_strategy, args.save_steps, args.save_total_limit = "steps", self.args.checkpoint_steps, 2
        for key, value in overrides.items():
            setattr(args, key, value)
        return args


class ContinualMethod:
    """Base class of continual methods. Subclasses set ``name`` and implement ``train_task``.

    ``before_task`` / ``after_task`` are task-level hooks for methods that keep state across tasks (replay buffers,
    Fisher information, earlier adapters); ``train_task`` returns the merged policy π_k.
    """

    name: ClassVar[str]
    family: ClassVar[str]  # "rl" or "sft"

    def before_task(self, ctx: TaskContext) -> None:
        pass

    def train_task(self, ctx: TaskContext) -> PreTrainedModel:
        raise NotImplementedError

    def after_task(self, ctx: TaskContext, policy: PreTrainedModel) -> None:
        pass

    def state_dict(self) -> dict:
        """State carried across tasks (buffers, Fisher estimates, earlier adapters), saved after each task so that
        a continued run restores it; tensors are fine (``torch.save``)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


_METHODS: dict[str, type[ContinualMethod]] = {}


def register_method(cls: type[ContinualMethod]) -> type[ContinualMethod]:
    _METHODS[cls.name] = cls
    return cls


def available_methods() -> list[str]:
    return sorted(_METHODS)


def get_method(name: str) -> type[ContinualMethod]:
    if name not in _METHODS:
        raise KeyError(f"Unknown method {name!r}; choose one of {available_methods()}.")
    return _METHODS[name]


def merged(model) -> PreTrainedModel:
    """The plain model: LoRA adapters merged into the weights (π_k), so the next task's anchor needs no adapter."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model
