"""``mm_ewc``: multimodal EWC — separate Fisher estimates for the vision encoder, the cross-modal projector and the
language model, each rescaled by an adaptive weight, plus a cross-modal consistency loss against π_{k−1}.

Our formalisation (the rescaling is not specified beyond "adaptive per-module weights"): group g's Fisher is
multiplied by ``mean(F) / mean(F_g)``, so that each module's penalty is on the same scale whatever the magnitude of
its gradients — the small projector is not drowned by the language model. ``mm_adaptive: false`` keeps plain EWC
weights. The consistency term (``rdbcl/sft/penalties/consistency.py``, weight ``mm_consistency_weight``) keeps a frozen
π_{k−1} in memory, as LwF does.
"""

from __future__ import annotations

import torch

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.ewc import EWCMethod
from rdbcl.methods.sft import previous_policy
from rdbcl.sft.penalties.consistency import CrossModalConsistency
from rdbcl.sft.trainer import ContinualSFTTrainer, Penalty


GROUPS = ("vision", "projector", "language")
_PROJECTOR = ("connector", "multi_modal_projector", "mm_projector", "merger", "visual_projection")
_VISION = ("vision_model", "vision_tower", "visual", "image_encoder")


def param_group(name: str) -> str:
    """Which module a parameter belongs to, by the names VLMs in transformers use (projector checked first: Qwen's
    ``visual.merger`` lives inside the vision tower)."""
    parts = name.split(".")
    if any(p in _PROJECTOR for p in parts):
        return "projector"
    if any(p in _VISION for p in parts):
        return "vision"
    return "language"


def adaptive_weights(fisher: dict[str, torch.Tensor]) -> dict[str, float]:
    """Per group: overall mean Fisher / the group's mean Fisher (0 for a group without information)."""
    total = torch.cat([f.flatten() for f in fisher.values()]).mean().item()
    weights = {}
    for group in GROUPS:
        values = [f.flatten() for n, f in fisher.items() if param_group(n) == group]
        mean = torch.cat(values).mean().item() if values else 0.0
        weights[group] = total / mean if mean > 0 else 0.0
    return weights


@register_method
class MultimodalEWCMethod(EWCMethod):
    name = "mm_ewc"

    def fisher(self, ctx: TaskContext, trainer: ContinualSFTTrainer) -> dict:
        fisher = super().fisher(ctx, trainer)
        if not ctx.args.mm_adaptive:
            return fisher
        weights = adaptive_weights(fisher)
        ctx.log.setdefault("method_summary", {})["group_weights"] = weights
        return {n: f * weights[param_group(n)] for n, f in fisher.items()}

    def penalties(self, ctx: TaskContext) -> list[Penalty]:
        penalties = super().penalties(ctx)
        if ctx.index > 0 and ctx.args.mm_consistency_weight > 0:
            penalties.append(CrossModalConsistency(previous_policy(ctx), ctx.args.mm_consistency_weight))
        return penalties
