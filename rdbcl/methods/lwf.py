"""``lwf``: sequential SFT plus distillation from the previous task's model on the new task's inputs.

Keeps a frozen π_{k−1}, loaded from its saved checkpoint, in memory while task k trains (one extra model; see README
for the measured cost). Loaded rather than copied: TRL patches a trained model's ``forward`` with a closure over that
model, so a deep copy would still run the student's weights.
"""

from __future__ import annotations

from transformers import AutoModelForImageTextToText

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.sft import SFTMethod
from rdbcl.penalties import DistillationPenalty
from rdbcl.sft_trainer import Penalty


@register_method
class LwFMethod(SFTMethod):
    name = "lwf"

    def penalties(self, ctx: TaskContext) -> list[Penalty]:
        if ctx.index == 0:
            return []  # nothing learned before the first task to preserve
        teacher = AutoModelForImageTextToText.from_pretrained(str(ctx.anchor_path), dtype=ctx.policy.dtype).to(
            ctx.policy.device)
        return [DistillationPenalty(teacher, ctx.args.lwf_alpha, ctx.args.lwf_temperature)]
