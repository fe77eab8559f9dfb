"""``grpo_replay``: GRPO whose prompts mix in earlier tasks' rows from the replay buffer (``replay_ratio``), each
scored by its own task's rewards: the rewards of every task in the batch are given to the trainer, routed by the
rows' ``task`` column (a reward returns None on other tasks' samples and TRL sums the rest)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.grpo import GRPOMethod
from rdbcl.methods.replay import Replaying


if TYPE_CHECKING:
    from datasets import Dataset

    from reward_fns import TaskReward


@register_method
class GRPOReplayMethod(Replaying, GRPOMethod):
    name = "grpo_replay"

    def train_dataset(self, ctx: TaskContext) -> Dataset:
        return self.mixed_rows(ctx)

    def reward_functions(self, ctx: TaskContext) -> tuple[list[TaskReward], list[float]]:
        """Every replayed task's rewards beside the current task's, named ``task/reward`` so their logs stay apart."""
        names = [*self.replayed_tasks(ctx), ctx.task.name]
        tasks = {t.name: t for t in ctx.stream.tasks}
        funcs, weights = [], []
        for name in dict.fromkeys(names):
            f, w = tasks[name].reward_functions(ctx.args.on_reward_error, qualify=True,
                                                defaults={"max_length": ctx.args.max_completion_length})
            funcs += f
            weights += w
        return funcs, weights
