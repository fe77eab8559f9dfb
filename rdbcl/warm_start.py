"""Optional SFT warm-start before a task's RL: teaches a small model the task's answer format and vocabulary.

It is an explicit phase of the stream (DESIGN §1, off by default), trained with TRL's ``SFTTrainer`` on the
ground-truth answers with the loss on the completion only; its accuracy is reported separately from RL's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datasets import Dataset
from trl import SFTConfig, SFTTrainer


if TYPE_CHECKING:
    from rdbcl.methods.base import TaskContext


def answer_completion(answer: str) -> list[dict]:
    return [{"role": "assistant", "content": [{"type": "text", "text": f"<answer>{answer}</answer>"}]}]


def to_sft_dataset(train: Dataset) -> Dataset:
    """Prompt–completion rows (conversational, with the image) from a task's RL rows."""
    return train.map(lambda row: {"completion": answer_completion(row["answer"])})


def sft_args(ctx: TaskContext, max_steps: int, learning_rate: float, batch_size: int, phase: str = "warm_start",
             checkpoints: bool = False) -> SFTConfig:
    """SFT arguments sharing the run's devices, precision, logging and seed.

    ``phase`` names the run and output subdirectory (``""``: the task's directory itself, where a continued run looks
    for resume points); ``checkpoints`` saves one every ``checkpoint_steps``.
    """
    base = ctx.args
    every = base.checkpoint_steps if checkpoints else 0
    saving = {"save_strategy": "steps", "save_steps": every, "save_total_limit": 2} if every > 0 else {
        "save_strategy": "no"}
    return SFTConfig(
        output_dir=str(ctx.output_dir / phase),
        max_steps=max_steps,
        learning_rate=learning_rate,
        per_device_train_batch_size=batch_size,
        lr_scheduler_type="constant",
        warmup_steps=0,
        bf16=base.bf16,
        fp16=base.fp16,
        use_cpu=base.use_cpu,
        activation_checkpointing=base.activation_checkpointing,
        seed=base.seed,
        logging_steps=base.logging_steps,
        report_to=base.report_to,
        run_name=f"{base.run_name or 'rdbcl'}/task{ctx.index}-{ctx.task.name}" + (f"/{phase}" if phase else ""),
        **saving,
        completion_only_loss=True,
        max_length=None,
        dataset_num_proc=None,
        disable_tqdm=base.disable_tqdm,
    )


def warm_start(ctx: TaskContext) -> None:
    """Fine-tune ``ctx.policy`` in place (full FT), or train a LoRA adapter (``ctx.policy`` becomes a PeftModel)."""
    args = sft_args(ctx, ctx.args.warm_start_steps, ctx.args.warm_start_learning_rate, ctx.args.warm_start_batch_size)
    trainer = SFTTrainer(
        model=ctx.policy,
        args=args,
        train_dataset=to_sft_dataset(ctx.task.train),
        processing_class=ctx.processor,
        peft_config=ctx.peft_config,
    )
    trainer.train()
    ctx.log["warm_start_log"] = trainer.state.log_history
    ctx.policy = trainer.model
