"""``seq_ft``: sequential supervised fine-tuning (CoIN's baseline), full or LoRA, and the base of the SFT methods.

Each task is trained with TRL's ``SFTTrainer`` on its ground-truth answers (``<answer>…</answer>`` completions, loss
on the answer tokens only; images through the same processor as RL) for ``max_steps`` steps at ``learning_rate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datasets import Dataset

from rdbcl.methods.base import ContinualMethod, TaskContext, merged, register_method
from rdbcl.methods.warm_start import sft_args, to_sft_dataset
from rdbcl.models.loading import policy_class
from rdbcl.sft.trainer import ContinualSFTTrainer, Penalty


if TYPE_CHECKING:
    from transformers import PreTrainedModel


def previous_policy(ctx: TaskContext):
    """π_{k−1} loaded from its saved checkpoint, for methods that keep it beside the trained model (LwF's teacher,
    mm_ewc's consistency). Loaded rather than copied: TRL patches a trained model's ``forward`` with a closure over
    that very model, so a deep copy would still run the student's weights."""
    model = policy_class(ctx.anchor_path).from_pretrained(str(ctx.anchor_path), dtype=ctx.policy.dtype)
    return model.to(ctx.policy.device)


@register_method
class SFTMethod(ContinualMethod):
    name = "seq_ft"
    family = "sft"

    def train_dataset(self, ctx: TaskContext) -> Dataset:
        """The task's SFT rows (subclasses mix in replay)."""
        return to_sft_dataset(ctx.task.train)

    def penalties(self, ctx: TaskContext) -> list[Penalty]:
        """Terms added to the SFT loss (subclasses: EWC, distillation, …)."""
        return []

    def build_trainer(self, ctx: TaskContext) -> ContinualSFTTrainer:
        args = sft_args(ctx, ctx.args.max_steps, ctx.args.learning_rate, ctx.args.per_device_train_batch_size,
                        phase="", checkpoints=True)
        return ContinualSFTTrainer(
            model=ctx.policy,
            args=args,
            train_dataset=self.train_dataset(ctx),
            processing_class=ctx.processor,
            peft_config=ctx.peft_config if not hasattr(ctx.policy, "peft_config") else None,
            penalties=self.penalties(ctx),
        )

    def after_training(self, ctx: TaskContext, trainer: ContinualSFTTrainer) -> None:
        """Called with the trained task's trainer before its adapter is merged (e.g. to estimate a Fisher)."""

    def train_task(self, ctx: TaskContext) -> PreTrainedModel:
        trainer = self.build_trainer(ctx)
        trainer.train(resume_from_checkpoint=ctx.resume_from)
        ctx.log["train_log"] = trainer.state.log_history
        self.after_training(ctx, trainer)
        return merged(trainer.model)
