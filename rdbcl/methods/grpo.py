"""``grpo``: GRPO on each task, KL-anchored to the policy after the previous task (or to π_0, or β = 0)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import reward_fns
from rdbcl.methods.base import ContinualMethod, TaskContext, merged, register_method
from rdbcl.trainer import ContinualGRPOTrainer


if TYPE_CHECKING:
    from transformers import PreTrainedModel


@register_method
class GRPOMethod(ContinualMethod):
    name = "grpo"
    family = "rl"
    trainer_cls = ContinualGRPOTrainer

    def trainer_kwargs(self, ctx: TaskContext) -> dict:
        """Method-specific trainer arguments (subclasses extend)."""
        return {"args": ctx.task_args(reward_weights=ctx.task.reward_weights)}

    def build_trainer(self, ctx: TaskContext) -> ContinualGRPOTrainer:
        """The task's trainer, exposed separately so tests and subclasses can inspect it before training."""
        task = ctx.task
        # TRL builds the reference model from this path (full fine-tuning): point it at the anchor's checkpoint.
        ctx.policy.config._name_or_path = str(ctx.anchor_path)
        return self.trainer_cls(
            model=ctx.policy,
            reward_funcs=[reward_fns.get(name) for name in task.rewards],
            train_dataset=task.train,
            processing_class=ctx.processor,
            peft_config=ctx.peft_config if not hasattr(ctx.policy, "peft_config") else None,
            **self.trainer_kwargs(ctx),
        )

    def summarize(self, trainer: ContinualGRPOTrainer) -> dict:
        """Method-specific per-task figures for the report."""
        return {}

    def train_task(self, ctx: TaskContext) -> PreTrainedModel:
        trainer = self.build_trainer(ctx)
        trainer.train()
        ctx.log["train_log"] = trainer.state.log_history
        ctx.log["method_summary"] = self.summarize(trainer)
        return merged(trainer.model)
