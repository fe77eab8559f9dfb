"""``replay``: sequential SFT whose batches mix in rows of earlier tasks from a bounded buffer (``replay_ratio`` of
each task's training data; reservoir or per-task quota)."""

from __future__ import annotations

from datasets import Dataset

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.sft import SFTMethod
from rdbcl.replay_buffer import ReplayBuffer
from rdbcl.warm_start import to_sft_dataset


@register_method
class ReplayMethod(SFTMethod):
    name = "replay"

    def __init__(self):
        self.buffer: ReplayBuffer | None = None
        self._restored: dict | None = None  # a continued run's buffer, bound to the stream's datasets at the next task

    def _buffer(self, ctx: TaskContext) -> ReplayBuffer:
        if self.buffer is None:
            a = ctx.args
            self.buffer = ReplayBuffer(a.replay_buffer_size, a.replay_strategy, seed=a.seed)
        return self.buffer

    def train_dataset(self, ctx: TaskContext) -> Dataset:
        return to_sft_dataset(self._buffer(ctx).mix(ctx.task.train, ctx.args.replay_ratio))

    def after_task(self, ctx: TaskContext, policy) -> None:
        self._buffer(ctx).add(ctx.task.name, ctx.task.train)

    def state_dict(self) -> dict:
        return {"buffer": self.buffer.state_dict()} if self.buffer is not None else {}

    def load_state_dict(self, state: dict) -> None:
        self._restored = state.get("buffer")

    def before_task(self, ctx: TaskContext) -> None:
        if self._restored is not None:  # the buffer indexes rows of the stream's earlier tasks
            earlier = {t.name: t.train for t in ctx.stream.tasks[:ctx.index]}
            self._buffer(ctx).load_state_dict(self._restored, earlier)
            self._restored = None
