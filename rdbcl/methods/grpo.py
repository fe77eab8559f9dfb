"""``grpo``: GRPO on each task, KL-anchored to the policy after the previous task (or to π_0, or β = 0)."""

from __future__ import annotations

from statistics import mean
from typing import TYPE_CHECKING

from rdbcl.methods.base import ContinualMethod, TaskContext, merged, register_method
from rdbcl.rl.trainer import ContinualGRPOTrainer


if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedModel

    from reward_fns import TaskReward


@register_method
class GRPOMethod(ContinualMethod):
    name = "grpo"
    family = "rl"
    trainer_cls = ContinualGRPOTrainer

    def trainer_kwargs(self, ctx: TaskContext) -> dict:
        """Method-specific trainer arguments (subclasses extend)."""
        return {"args": ctx.task_args()}

    def train_dataset(self, ctx: TaskContext) -> Dataset:
        """The prompts trained on (subclasses mix in replay)."""
        return ctx.task.train

    def reward_functions(self, ctx: TaskContext) -> tuple[list[TaskReward], list[float]]:
        """The task's rewards, routed to its own samples, with their weights (``rewards`` in the recipe overrides)."""
        return ctx.task.reward_functions(ctx.args.on_reward_error,
                                         defaults={"max_length": ctx.args.max_completion_length})

    def build_trainer(self, ctx: TaskContext) -> ContinualGRPOTrainer:
        """The task's trainer, exposed separately so tests and subclasses can inspect it before training."""
        # TRL builds the reference model from this path (full fine-tuning): point it at the anchor's checkpoint.
        ctx.policy.config._name_or_path = str(ctx.anchor_path)
        reward_funcs, weights = self.reward_functions(ctx)
        kwargs = self.trainer_kwargs(ctx)
        kwargs["args"].reward_weights = weights
        return self.trainer_cls(
            model=ctx.policy,
            reward_funcs=reward_funcs,
            train_dataset=self.train_dataset(ctx),
            processing_class=ctx.processor,
            peft_config=ctx.peft_config if not hasattr(ctx.policy, "peft_config") else None,
            **kwargs,
        )

    def summarize(self, trainer: ContinualGRPOTrainer) -> dict:
        """Method-specific per-task figures for the report (subclasses extend): samples a reward failed on."""
        errors = {f.__name__: f.errors for f in trainer.reward_funcs if getattr(f, "errors", 0)}
        return {"reward_errors": errors} if errors else {}

    @staticmethod
    def step_summary(history: list[dict], prefix: str) -> dict:
        """A trainer's per-step figures under ``prefix`` (``rdbcl/``): their means over the task, and every step."""
        keys = sorted({k for h in history for k in h if k.startswith(prefix)})
        return {"mean_over_steps": {k: mean(h[k] for h in history if k in h) for k in keys}, "steps": history}

    def train_task(self, ctx: TaskContext) -> PreTrainedModel:
        trainer = self.build_trainer(ctx)
        trainer.train(resume_from_checkpoint=ctx.resume_from)
        ctx.log["train_log"] = trainer.state.log_history
        ctx.log["method_summary"] = self.summarize(trainer)
        return merged(trainer.model)
