"""A continual-learning task stream: an ordered list of tasks, each with train/eval data and its verifiable rewards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from datasets import Dataset


SYSTEM_PROMPT = "Answer the question about the image as <answer>word</answer>, after <think>...</think> if needed."


@dataclass
class Task:
    """One task of a stream.

    ``train`` and ``eval`` have the columns TRL's trainers read: ``prompt`` (a conversation whose user turn holds
    an ``{"type": "image"}`` part), ``image`` (PIL image), ``answer`` (ground truth) and ``task`` (this task's
    name, so mixed batches can route each sample to its own rewards).
    """

    name: str
    train: Dataset
    eval: Dataset
    rewards: list[str] = field(default_factory=lambda: ["exact_match", "format"])
    reward_weights: list[float] | None = None
    metric: str = "exact_match"
    labels: list[str] = field(default_factory=list)

    @property
    def chance(self) -> float:
        """Accuracy (percent) of guessing uniformly among the task's answer words."""
        return 100.0 / len(self.labels) if self.labels else 0.0

    def describe(self) -> dict:
        return {"name": self.name, "n_train": len(self.train), "n_eval": len(self.eval), "rewards": self.rewards,
                "reward_weights": self.reward_weights, "metric": self.metric, "chance": self.chance,
                "labels": self.labels}


@dataclass
class TaskStream:
    name: str
    tasks: list[Task]

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tasks]


def make_prompt(question: str, system_prompt: str = SYSTEM_PROMPT) -> list[dict]:
    return [
        {"role": "system", "content": [{"type": "text", "text": system_prompt}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]},
    ]


StreamBuilder = Callable[..., TaskStream]
_STREAMS: dict[str, StreamBuilder] = {}


def register_stream(name: str) -> Callable[[StreamBuilder], StreamBuilder]:
    def wrap(fn: StreamBuilder) -> StreamBuilder:
        _STREAMS[name] = fn
        return fn

    return wrap


def available_streams() -> list[str]:
    return sorted(_STREAMS)


def get_stream(name: str, **kwargs) -> TaskStream:
    if name not in _STREAMS:
        raise KeyError(f"Unknown stream {name!r}. Available streams: {', '.join(available_streams())}.")
    return _STREAMS[name](**kwargs)
