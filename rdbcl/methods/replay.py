"""``replay``: sequential SFT whose batches mix in rows of earlier tasks from a bounded buffer (``replay_ratio`` of
each task's training data; reservoir or per-task quota). :class:`Replaying` carries the buffer for RL methods too."""

from __future__ import annotations

from datasets import Dataset

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.replay_buffer import ReplayBuffer
from rdbcl.methods.sft import SFTMethod
from rdbcl.methods.warm_start import to_sft_dataset


class Replaying:
    """Mixin keeping one replay buffer across the stream: filled after each task, saved in the method state, and
    re-bound to the stream's datasets when a run is continued (the buffer stores row indices, not rows)."""

    buffer: ReplayBuffer | None = None
    _restored: dict | None = None  # a continued run's buffer, bound to the stream's datasets at the next task

    def _buffer(self, ctx: TaskContext) -> ReplayBuffer:
        if self.buffer is None:
            a = ctx.args
            self.buffer = ReplayBuffer(a.replay_buffer_size, a.replay_strategy, seed=a.seed)
        return self.buffer

    def mixed_rows(self, ctx: TaskContext) -> Dataset:
        """The task's rows plus ``replay_ratio`` rows drawn from the buffer (each keeps its ``task`` column)."""
        return self._buffer(ctx).mix(ctx.task.train, ctx.args.replay_ratio)

    def replayed_tasks(self, ctx: TaskContext) -> list[str]:
        return list(self._buffer(ctx).datasets)

    def before_task(self, ctx: TaskContext) -> None:
        if self._restored is not None:
            earlier = {t.name: t.train for t in ctx.stream.tasks[:ctx.index]}
            self._buffer(ctx).load_state_dict(self._restored, earlier)
            self._restored = None

    def after_task(self, ctx: TaskContext, policy) -> None:
        self._buffer(ctx).add(ctx.task.name, ctx.task.train)

    def state_dict(self) -> dict:
        return {"buffer": self.buffer.state_dict()} if self.buffer is not None else {}

    def load_state_dict(self, state: dict) -> None:
        self._restored = state.get("buffer")


@register_method
class ReplayMethod(Replaying, SFTMethod):
    name = "replay"

    def train_dataset(self, ctx: TaskContext) -> Dataset:
        return to_sft_dataset(self.mixed_rows(ctx))
