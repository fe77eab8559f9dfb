"""``rdbcl``: GRPO anchored to the previous task's policy with one KL weight per sample, set by its portability."""

from __future__ import annotations

import reward_fns
from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.grpo import GRPOMethod
from rdbcl.rl.rdbcl_trainer import RDBCLTrainer


@register_method
class RDBCLMethod(GRPOMethod):
    name = "rdbcl"
    trainer_cls = RDBCLTrainer

    def trainer_kwargs(self, ctx: TaskContext) -> dict:
        kwargs = super().trainer_kwargs(ctx)
        # TRL computes the anchor's log-probs only when its scalar beta is non-zero: β_max = 0 is plain GRPO.
        kwargs["args"].beta = ctx.args.beta_max
        metric = reward_fns.RewardSpec.parse(ctx.task.metric).name.rpartition(":")[2]
        return {**kwargs, "correctness_reward": metric}

    def summarize(self, trainer: RDBCLTrainer) -> dict:
        """Per-task RP / β summary for the report: means over the task's steps, and every step's values."""
        summary, history = super().summarize(trainer), trainer.rp_history
        if not history:
            return summary
        return {**summary, **self.step_summary(history, "rdbcl/")}
