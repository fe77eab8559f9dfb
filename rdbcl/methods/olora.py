"""``olora``: O-LoRA — a fresh LoRA adapter per task (PEFT), trained under an orthogonality loss against the
subspaces of earlier tasks' adapters, plus an optional L2 on the new adapter (``olora_l2``).

Each task's adapter is merged into the policy afterwards (so π_k is a plain model and the next task's anchor); its
A matrices are kept to constrain the later tasks.
"""

from __future__ import annotations

import torch

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.sft import SFTMethod
from rdbcl.sft.penalties.orthogonality import OrthogonalityPenalty, lora_down_weights
from rdbcl.sft.trainer import ContinualSFTTrainer, Penalty


class _LoRAL2:
    name = "lora_l2"

    def __init__(self, weight: float):
        self.weight = weight

    def __call__(self, model, inputs: dict | None = None) -> torch.Tensor:
        params = [p for n, p in getattr(model, "module", model).named_parameters() if "lora_" in n and p.requires_grad]
        return self.weight * sum(p.pow(2).sum() for p in params)


@register_method
class OLoRAMethod(SFTMethod):
    name = "olora"

    def __init__(self):
        self.subspaces: list[dict[str, torch.Tensor]] = []

    def penalties(self, ctx: TaskContext) -> list[Penalty]:
        if ctx.peft_config is None:
            raise ValueError("olora: trains one LoRA adapter per task; set use_peft: true (and lora_target_modules).")
        penalties: list[Penalty] = []
        if self.subspaces:
            penalties.append(OrthogonalityPenalty(self.subspaces, ctx.args.olora_lambda))
        if ctx.args.olora_l2 > 0:
            penalties.append(_LoRAL2(ctx.args.olora_l2))
        return penalties

    def after_training(self, ctx: TaskContext, trainer: ContinualSFTTrainer) -> None:
        self.subspaces.append({n: a.detach().cpu().clone() for n, a in lora_down_weights(trainer.model).items()})

    def state_dict(self) -> dict:
        return {"subspaces": self.subspaces}

    def load_state_dict(self, state: dict) -> None:
        self.subspaces = state["subspaces"]
