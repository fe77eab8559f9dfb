"""O-LoRA's orthogonality loss (Wang et al., 2023): the new task's LoRA subspace is pushed orthogonal to earlier
tasks' — ``Σ_modules Σ_{t<k} ‖A_t A_kᵀ‖²_F`` with A the LoRA down-projections (rank × in_features, PEFT's layout)."""

from __future__ import annotations

import torch


def subspace_overlap(new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """‖A_old A_newᵀ‖²_F: zero exactly when every row of ``new`` is orthogonal to every row of ``old``."""
    return (old.to(new.device, new.dtype) @ new.T).pow(2).sum()


def lora_down_weights(model, adapter: str = "default") -> dict[str, torch.Tensor]:
    """The LoRA A matrices of a PEFT model by module name (the trainable ones when ``model`` is being trained)."""
    found = {}
    for name, module in getattr(model, "module", model).named_modules():
        lora_a = getattr(module, "lora_A", None)
        if isinstance(lora_a, torch.nn.ModuleDict) and adapter in lora_a:
            found[name] = lora_a[adapter].weight
    return found


class OrthogonalityPenalty:
    name = "orthogonality"

    def __init__(self, previous: list[dict[str, torch.Tensor]], weight: float):
        self.previous, self.weight = previous, weight

    def __call__(self, model, inputs: dict | None = None) -> torch.Tensor:
        current = lora_down_weights(model)
        if not current:
            raise ValueError("olora: the model has no LoRA adapter to constrain (set use_peft: true).")
        total = sum(subspace_overlap(current[name], old[name]) for old in self.previous for name in old
                    if name in current)
        return self.weight * total if torch.is_tensor(total) else next(iter(current.values())).sum() * 0.0
