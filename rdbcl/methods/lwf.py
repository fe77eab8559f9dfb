"""``lwf``: sequential SFT plus distillation from the previous task's model on the new task's inputs.

Keeps a frozen π_{k−1} in memory while task k trains (one extra model; see README for the measured cost).
"""

from __future__ import annotations

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.sft import SFTMethod, previous_policy
from rdbcl.sft.penalties import DistillationPenalty
from rdbcl.sft.trainer import Penalty


@register_method
class LwFMethod(SFTMethod):
    name = "lwf"

    def penalties(self, ctx: TaskContext) -> list[Penalty]:
        if ctx.index == 0:
            return []  # nothing learned before the first task to preserve
        return [DistillationPenalty(previous_policy(ctx), ctx.args.lwf_alpha, ctx.args.lwf_temperature)]
