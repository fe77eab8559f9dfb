"""MoELoRA layers (CoIN's proposed baseline): a frozen linear layer plus E LoRA experts mixed per token by a router,
``y = W x + b + (α/r) Σ_e g_e(x) B_e A_e x`` with ``g = softmax(R x)``.

Hand-written: PEFT has no mixture-of-LoRA-experts layer. The layer *is* an ``nn.Linear`` holding the frozen base
weight under its usual name, so a policy saved with experts still loads as the plain model (the expert weights travel
in the method's state instead).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class MoELoRALinear(nn.Linear):
    def __init__(self, base: nn.Linear, experts: int = 4, rank: int = 8, alpha: float = 16.0):
        super().__init__(base.in_features, base.out_features, bias=base.bias is not None, device=base.weight.device,
                         dtype=base.weight.dtype)
        self.weight, self.bias = base.weight, base.bias
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)
        self.scaling = alpha / rank
        kw = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_A = nn.Parameter(torch.empty(experts, rank, base.in_features, **kw))
        nn.init.kaiming_uniform_(self.lora_A.view(experts * rank, -1), a=math.sqrt(5))
        self.lora_B = nn.Parameter(torch.zeros(experts, base.out_features, rank, **kw))  # starts as the base layer
        self.router = nn.Linear(base.in_features, experts, bias=False, **kw)
        nn.init.zeros_(self.router.weight)  # uniform gates at the start

    def gates(self, x: torch.Tensor) -> torch.Tensor:
        """Per-token expert weights, summing to 1 over the experts."""
        return F.softmax(self.router(x), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = torch.einsum("...i,eri->...er", x, self.lora_A)
        update = torch.einsum("...er,eor->...eo", hidden, self.lora_B)
        return F.linear(x, self.weight, self.bias) + self.scaling * (self.gates(x).unsqueeze(-1) * update).sum(-2)

    def expert_state(self) -> dict[str, torch.Tensor]:
        return {"lora_A": self.lora_A.detach().cpu(), "lora_B": self.lora_B.detach().cpu(),
                "router": self.router.weight.detach().cpu()}

    def load_expert_state(self, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            self.lora_A.copy_(state["lora_A"])
            self.lora_B.copy_(state["lora_B"])
            self.router.weight.copy_(state["router"])


def inject_moelora(model: nn.Module, targets: list[str], **layer_kwargs) -> dict[str, MoELoRALinear]:
    """Replace every ``nn.Linear`` whose name ends with one of ``targets`` by a ``MoELoRALinear`` (idempotent)."""
    layers = {}
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, MoELoRALinear):
                layers[full] = child
            elif isinstance(child, nn.Linear) and child_name in targets:
                layers[full] = MoELoRALinear(child, **layer_kwargs)
                setattr(module, child_name, layers[full])
    if not layers:
        raise ValueError(f"moelora: no linear layer named {targets} in the model.")
    return layers
