"""``moelora``: MoELoRA — LoRA experts with a token-level router on the target projections, trained through the
whole stream (the base model stays frozen). See ``rdbcl/sft/moelora.py``."""

from __future__ import annotations

import torch

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.sft import SFTMethod
from rdbcl.sft.moelora import inject_moelora
from rdbcl.sft.trainer import ContinualSFTTrainer


def _targets(args) -> list[str]:
    return [t.strip() for t in args.moelora_target_modules.split(",") if t.strip()]


@register_method
class MoELoRAMethod(SFTMethod):
    name = "moelora"

    def __init__(self):
        self.experts: dict[str, dict[str, torch.Tensor]] = {}

    def before_task(self, ctx: TaskContext) -> None:
        if ctx.peft_config is not None:
            raise ValueError("moelora: brings its own LoRA experts; set use_peft: false.")
        a = ctx.args
        layers = inject_moelora(ctx.policy, _targets(a), experts=a.moelora_experts, rank=a.moelora_rank,
                                alpha=a.moelora_alpha)
        for name, layer in layers.items():  # a continued run (or a reloaded policy) gets its experts back
            if name in self.experts:
                layer.load_expert_state(self.experts[name])
        for name, param in ctx.policy.named_parameters():
            param.requires_grad_(any(k in name for k in ("lora_A", "lora_B", "router")))

    def after_training(self, ctx: TaskContext, trainer: ContinualSFTTrainer) -> None:
        layers = inject_moelora(trainer.model, _targets(ctx.args))  # already injected: returns the layers
        self.experts = {name: layer.expert_state() for name, layer in layers.items()}

    def state_dict(self) -> dict:
        return {"experts": self.experts}

    def load_state_dict(self, state: dict) -> None:
        self.experts = state["experts"]
