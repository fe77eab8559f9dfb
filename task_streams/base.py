"""A continual-learning task stream: an ordered list of tasks, each with train/eval data and its verifiable rewards."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset

import reward_fns


SYSTEM_PROMPT = "Answer the question about the image as <answer>word</answer>, after <think>...</think> if needed."
# The R1 template, which the `format` reward checks by default: stream files and the reasoning testbed ask for it.
REASONING_SYSTEM_PROMPT = ("Think step by step inside <think>...</think>, then give the final answer as "
                           "<answer>...</answer>.")


@dataclass
class Task:
    """One task of a stream.

    ``train`` and ``eval`` have the columns TRL's trainers read: ``prompt`` (a conversation whose user turn holds
    an ``{"type": "image"}`` part when the row has an image), ``image`` (PIL image; ``None`` for a text-only row of
    a task that mixes both, as CoIN's ScienceQA; no column at all for a text-only task), ``answer`` (ground truth)
    and ``task`` (this task's name, so mixed batches can route each sample to its own rewards). ``rewards`` are
    reward specs (a name or ``{name, weight, params}``, see ``reward_fns.RewardSpec``); ``metric`` is the strict
    score used at evaluation.
    """

    name: str
    train: Dataset
    eval: Dataset
    rewards: list = field(default_factory=lambda: ["exact_match", "format"])
    metric: str | dict = "exact_match"
    labels: list[str] = field(default_factory=list)
    mode: str = "rl"
    note: str = ""
    skipped: dict = field(default_factory=dict)
    majority: float | None = None  # percent: accuracy of always giving the most frequent answer, when known

    def reward_functions(self, on_error: str = "raise", defaults: dict | None = None,
                         qualify: bool = False) -> tuple[list[reward_fns.TaskReward], list[float]]:
        """The training rewards (routed to this task's samples) and their weights, for TRL's trainer."""
        return reward_fns.task_rewards(self.rewards, self.name, on_error, defaults, qualify)

    def metric_function(self, on_error: str = "raise") -> reward_fns.TaskReward:
        """The strict evaluation score: a reward function too, so that train and eval agree on "correct"."""
        return reward_fns.task_reward(self.metric, self.name, on_error)

    @property
    def chance(self) -> float:
        """Accuracy (percent) of the best answer-blind policy the stream knows of: always the most frequent answer
        (``majority``) where the stream gives it, else guessing uniformly among the task's answer words."""
        if self.majority is not None:
            return self.majority
        return 100.0 / len(self.labels) if self.labels else 0.0

    def describe(self) -> dict:
        def spec(item) -> dict:
            return dataclasses.asdict(reward_fns.RewardSpec.parse(item, where=f"task {self.name!r}"))

        return {"name": self.name, "n_train": len(self.train), "n_eval": len(self.eval),
                "rewards": [spec(r) for r in self.rewards], "metric": spec(self.metric), "chance": self.chance,
                "labels": self.labels, "mode": self.mode, "note": self.note, "skipped_rows": self.skipped}


@dataclass
class TaskStream:
    """An ordered list of tasks. ``base_model`` names the embedded model a run starts from when no
    ``model_name_or_path`` is given: ``tiny`` (the tiny VLM with random weights) or ``reasoning`` (the reasoning
    testbed's pretrained π₀, see ``rdbcl.models.loading.EMBEDDED_MODELS``)."""

    name: str
    tasks: list[Task]
    base_model: str = "tiny"

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tasks]

    def with_rewards(self, overrides: dict | None) -> TaskStream:
        """The stream with some tasks' rewards replaced: ``{task_name: [reward, ...]}``, ``"*"`` for every task."""
        if not overrides:
            return self
        unknown = sorted(set(overrides) - set(self.names) - {"*"})
        if unknown:
            raise ValueError(f"rewards: no task named {unknown} in stream {self.name!r}; its tasks are {self.names}.")
        tasks = [dataclasses.replace(t, rewards=list(overrides.get(t.name, overrides.get("*", t.rewards))))
                 for t in self.tasks]
        return dataclasses.replace(self, tasks=tasks)


def make_prompt(question: str, system_prompt: str | None = SYSTEM_PROMPT, image: bool = True) -> list[dict]:
    """TRL's conversational prompt; the user turn holds an image part when the sample has an image, and no system
    turn precedes it when ``system_prompt`` is None."""
    parts = [{"type": "image"}] if image else []
    user = [{"role": "user", "content": [*parts, {"type": "text", "text": question}]}]
    if system_prompt is None:
        return user
    return [{"role": "system", "content": [{"type": "text", "text": system_prompt}]}, *user]


def image_list(row: dict) -> list:
    """A row's images as TRL's per-sample ``images`` list: ``[image]``, or ``[]`` for a text-only row (``image``
    None).

    TRL 1.16 turns an ``image`` column into ``[image]`` whatever its value: its SFT collator then counts a ``None``
    image as one image for a prompt without an image part ("Number of images provided (1) does not match number of
    image placeholders (0)"), and its GRPOTrainer hands the processor a list of ``None`` for an all-text batch.
    Given ``images`` lists instead, both drop the images of an all-text batch and otherwise hand the processor one
    list per sample, empty ones included.
    """
    return images_of(row.get("image"))


def images_of(value) -> list:
    """One sample's images as a list: ``[]`` for ``None``, a list without its ``None`` entries, else ``[value]``."""
    if value is None:
        return []
    return [image for image in value if image is not None] if isinstance(value, list) else [value]


StreamBuilder = Callable[..., TaskStream]
_STREAMS: dict[str, StreamBuilder] = {}


def register_stream(name: str) -> Callable[[StreamBuilder], StreamBuilder]:
    def wrap(fn: StreamBuilder) -> StreamBuilder:
        _STREAMS[name] = fn
        return fn

    return wrap


def available_streams() -> list[str]:
    return sorted(_STREAMS)


def is_stream_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) and Path(name).expanduser().is_file()


def get_stream(name: str, **kwargs) -> TaskStream:
    """A registered stream by name, or a user's stream file (``path/to/stream.yaml``)."""
    if is_stream_file(name):
        from task_streams.spec import load_stream_spec
        from task_streams.yaml_stream import build_stream

        return build_stream(load_stream_spec(Path(name).expanduser()), **kwargs)
    if name not in _STREAMS:
        raise KeyError(f"Unknown stream {name!r}. Available streams: {', '.join(available_streams())}; "
                       "or give the path of a stream file (.yaml).")
    return _STREAMS[name](**kwargs)
