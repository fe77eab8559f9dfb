"""Optional SFT warm-start before a task's RL: teaches a small model the task's answer format and vocabulary.

It is an explicit phase of the stream (DESIGN §1, off by default), trained with TRL's ``SFTTrainer`` on the
ground-truth answers with the loss on the completion only; its accuracy is reported separately from RL's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datasets import Dataset
from trl import SFTConfig

from rdbcl.sft.trainer import ContinualSFTTrainer
from reward_fns.routing import ENCODED_COLUMNS, decoded


if TYPE_CHECKING:
    from rdbcl.methods.base import TaskContext


def answer_text(answer) -> str:
    """The ground truth as the model should write it: a string as it is; of a list of acceptable or human answers
    (VQA, OCR) the most frequent, first on ties (VQA's majority answer); a box as ``[x1, y1, x2, y2]``.

    >>> answer_text("B"), answer_text(["stop", "halt", "halt"]), answer_text([0.1, 0.25, 1.0, 0.5])
    ('B', 'halt', '[0.1, 0.25, 1, 0.5]')
    """
    if isinstance(answer, (list, tuple)) and answer:
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in answer):
            return "[" + ", ".join(str(int(v)) if float(v).is_integer() else repr(float(v)) for v in answer) + "]"
        texts = [str(v) for v in answer]
        return max(texts, key=texts.count)  # max keeps the first of equally frequent answers
    return str(answer)


def answer_completion(answer, solution: str | None = None, plain: bool = False) -> list[dict]:
    """The SFT target: the row's reference ``solution`` (with its reasoning) when it has one, else the answer; its
    content a list of parts, or one string (``plain``) as in the prompts a text-only policy gets
    (``rdbcl.models.text_policy``)."""
    text = solution if solution else f"<answer>{answer_text(answer)}</answer>"
    return [{"role": "assistant", "content": text if plain else [{"type": "text", "text": text}]}]


def to_sft_dataset(train: Dataset) -> Dataset:
    """Prompt–completion rows (conversational, with the image; ``None`` for a text-only row) from a task's RL rows.

    The target is a row's ``solution`` column where the stream gives one (a reference solution with reasoning, as
    the ``digit_reasoning`` stream does), else ``<answer>…</answer>``. Only these columns are read, so images are
    not decoded; rows of replayed tasks whose answers are stored as JSON text
    (``rdbcl.methods.replay_buffer.concatenated``) are decoded first. A completion's content takes its prompt's
    layout (parts, or one string)."""
    columns = [c for c in ("prompt", "answer", "solution", ENCODED_COLUMNS) if c in train.column_names]

    def completions(*values) -> dict:
        rows = decoded(dict(zip(columns, values, strict=True)))
        solutions = rows.get("solution") or [None] * len(rows["answer"])
        return {"completion": [answer_completion(a, s, plain=isinstance(p[-1]["content"], str))
                               for p, a, s in zip(rows["prompt"], rows["answer"], solutions, strict=True)]}

    return train.map(completions, batched=True, input_columns=columns, desc="SFT targets")


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
    trainer = ContinualSFTTrainer(  # TRL's SFTTrainer, taking batches that mix image and text-only rows
        model=ctx.policy,
        args=args,
        train_dataset=to_sft_dataset(ctx.task.train),
        processing_class=ctx.processor,
        peft_config=ctx.peft_config,
    )
    trainer.train()
    ctx.log["warm_start_log"] = trainer.state.log_history
    ctx.policy = trainer.model
