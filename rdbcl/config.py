"""Configuration: one dataclass extending TRL's ``GRPOConfig`` with the continual-learning fields, plus the stream."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields

from trl import GRPOConfig


@dataclass
class StreamArguments:
    """Which task stream to run and how much of it.

    Args:
        stream: registered stream name (``python -c "import task_streams; print(task_streams.available_streams())"``).
        n_train: training rows per task (≤ 0: all).
        n_eval: held-out evaluation rows per task.
        stream_seed: seed of the row sampling.
        data_root: local root of a stream's released files (streams that read local data).
    """

    stream: str = field(metadata={"help": "Registered task stream name, e.g. `embedded`."})
    n_train: int = field(default=2000, metadata={"help": "Training rows per task (<= 0: all)."})
    n_eval: int = field(default=100, metadata={"help": "Held-out evaluation rows per task."})
    stream_seed: int = field(default=0, metadata={"help": "Seed of the row sampling."})
    data_root: str | None = field(default=None, metadata={"help": "Local root of the stream's released files."})

    def __post_init__(self) -> None:
        _check_types(self)
        from task_streams import available_streams

        if self.stream not in available_streams():
            raise ValueError(f"stream: unknown stream {self.stream!r}; choose one of {available_streams()}.")
        if self.n_eval <= 0:
            raise ValueError(f"n_eval: must be positive to fill the accuracy matrix, got {self.n_eval}.")


@dataclass
class ContinualConfig(GRPOConfig):
    r"""``GRPOConfig`` plus the fields of a continual stream. Training fields such as ``max_steps`` and
    ``learning_rate`` apply to each task of the stream.

    > Method

    Args:
        method: continual method name (see ``rdbcl.methods.available_methods()``).
        anchor: KL anchor of task k: ``previous`` (π_{k−1}, the policy after the previous task) or ``base`` (π_0).

    > Warm-start (an explicit, reported SFT phase before each task's RL)

    Args:
        warm_start_steps: SFT steps on the task's answers before RL (0: none).
        warm_start_learning_rate: learning rate of the warm-start.
        warm_start_batch_size: per-device batch size of the warm-start.

    > Evaluation

    Args:
        eval_batch_size: prompts per batched greedy generation.
        eval_max_new_tokens: generation budget at evaluation.
        eval_before_stream: also evaluate the base model on every task (the zero-shot row).
        save_policies: keep every task's policy in ``output_dir/policies`` (the last one is always kept).
    """

    method: str = field(default="grpo", metadata={"help": "Continual method name, e.g. `grpo`."})
    anchor: str = field(default="previous", metadata={"help": "KL anchor: `previous` (π_{k-1}) or `base` (π_0)."})
    warm_start_steps: int = field(default=0, metadata={"help": "SFT warm-start steps per task before RL (0: off)."})
    warm_start_learning_rate: float = field(default=1e-3, metadata={"help": "Learning rate of the SFT warm-start."})
    warm_start_batch_size: int = field(default=16, metadata={"help": "Per-device batch size of the warm-start."})
    eval_batch_size: int = field(default=50, metadata={"help": "Prompts per batched greedy generation at eval."})
    eval_max_new_tokens: int = field(default=16, metadata={"help": "Maximum new tokens at evaluation."})
    eval_before_stream: bool = field(default=True, metadata={"help": "Evaluate the base model first (zero-shot row)."})
    save_policies: bool = field(default=True, metadata={"help": "Keep every task's policy, not only the last."})

    def __post_init__(self) -> None:
        _check_types(self, only=_OWN_FIELDS)
        super().__post_init__()
        from rdbcl.methods import available_methods

        if self.method not in available_methods():
            raise ValueError(f"method: unknown method {self.method!r}; choose one of {available_methods()}.")
        if self.anchor not in ("previous", "base"):
            raise ValueError(f"anchor: must be `previous` or `base`, got {self.anchor!r}.")
        for name in ("warm_start_steps", "eval_batch_size", "eval_max_new_tokens", "warm_start_batch_size"):
            if getattr(self, name) < (0 if name == "warm_start_steps" else 1):
                raise ValueError(f"{name}: must be {'>= 0' if name == 'warm_start_steps' else '>= 1'}, "
                                 f"got {getattr(self, name)}.")
        if self.max_steps is None or self.max_steps <= 0:
            raise ValueError("max_steps: set the number of RL steps per task (> 0); epochs are ambiguous on a stream.")


_OWN_FIELDS = {"method", "anchor", "warm_start_steps", "warm_start_learning_rate", "warm_start_batch_size",
               "eval_batch_size", "eval_max_new_tokens", "eval_before_stream", "save_policies"}


def _check_types(obj, only: set[str] | None = None) -> None:
    """Reject values of the wrong type early (YAML values bypass argparse's conversion), naming the field."""
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        if only is not None and f.name not in only:
            continue
        value, hint = getattr(obj, f.name), hints.get(f.name)
        allowed = tuple(t for t in typing.get_args(hint) or (hint,) if isinstance(t, type))
        if value is None and type(None) in allowed:
            continue
        if float in allowed and isinstance(value, int) and not isinstance(value, bool):
            continue
        if allowed and not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
            wanted = " or ".join(t.__name__ for t in allowed)
            raise TypeError(f"{f.name}: expected {wanted}, got {value!r} ({type(value).__name__}).")
