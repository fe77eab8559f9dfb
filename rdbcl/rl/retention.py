"""RaPO's two mechanisms (Lou et al., arXiv 2605.09640, §3): the retention reward and cross-task advantage
normalization (CTAN). Pure tensor functions so that they can be checked by hand; ``rdbcl.rl.rapo_trainer`` wires them
into TRL's GRPO. Hand-written: no kept library implements RaPO.
"""

from __future__ import annotations

import math

import torch
from trl.trainer.utils import nanstd


def trajectory_drift(policy_logps: torch.Tensor, anchor_logps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(N,) one-sided, length-normalised drift of each rollout from the anchor (paper Eq. 2):
    ``max(mean_s [log π(y_s) − log π_{k−1}(y_s)], 0)`` over the rollout's completion tokens.

    Averaged over tokens so rollouts of different lengths compare; clipped at 0 because a negative single-sample
    log-ratio is not a divergence, and rewarding it would pay the policy for low-confidence text.
    """
    mask = mask.to(policy_logps.dtype)
    gap = ((policy_logps - anchor_logps) * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)
    return gap.clamp(min=0.0).detach()


def retention_reward(drift: torch.Tensor, alpha: float) -> torch.Tensor:
    """(N,) ``exp(−α·drift)`` in (0, 1] (paper Eq. 3): 1 for a rollout the anchor would have written as likely."""
    return torch.exp(-alpha * drift)


class CrossTaskNormalizer:
    """CTAN (paper Eq. 5–6): group-centred rewards divided by a running estimate σ̂ of the batch reward spread that
    persists across steps *and tasks*, instead of each group's own std.

    Why: a group whose rollouts tie on the task reward differs only by its small retention bonuses; dividing by that
    group's tiny std would blow them up into full-size advantages. One spread shared over the stream keeps the
    bonus at its intended scale, and carrying it over task boundaries avoids a jump when the reward scale changes.

    σ̂ is an exponential moving average with decay ``decay`` of the global batch's reward std, bias-corrected as in
    Adam (``m / (1 − decay^t)``) so that the first steps use the batch stds seen so far rather than an arbitrary
    initial value (the paper leaves the initialisation open).
    """

    def __init__(self, decay: float = 0.999, eps: float = 1e-4):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"rapo_ema: must be in [0, 1), got {decay}.")
        self.decay, self.eps = decay, eps
        self.biased = 0.0  # m_t
        self.steps = 0  # t

    @property
    def sigma(self) -> float | None:
        """The current σ̂ (None before the first batch)."""
        return self.biased / (1.0 - self.decay ** self.steps) if self.steps else None

    def update(self, sigma_batch: float) -> float:
        """Fold one batch's reward std into σ̂ and return the new σ̂ (the batch is counted before it is used)."""
        if not math.isfinite(sigma_batch):
            return self.sigma if self.sigma is not None else 0.0
        self.biased = self.decay * self.biased + (1.0 - self.decay) * sigma_batch
        self.steps += 1
        return self.sigma

    def advantages(self, rewards: torch.Tensor, group_size: int, update: bool = True) -> tuple[torch.Tensor, float,
                                                                                                  float]:
        """(N,) advantages ``(r_i − mean_group) / (σ̂ + eps)``, σ̂ and the batch std; NaN rewards (unscorable rows)
        get advantage 0 and are left out of the statistics. ``update=False`` (evaluation) leaves σ̂ as it is."""
        groups = rewards.view(-1, group_size)
        centred = (groups - torch.nanmean(groups, dim=1, keepdim=True)).view(-1)
        sigma_batch = nanstd(rewards).item() if rewards.numel() > 1 else float("nan")
        sigma = self.update(sigma_batch) if update else (self.sigma if self.sigma is not None else sigma_batch)
        sigma = sigma if math.isfinite(sigma) else 0.0
        return torch.nan_to_num(centred / (sigma + self.eps), nan=0.0), sigma, sigma_batch

    def state_dict(self) -> dict:
        return {"biased": self.biased, "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.biased, self.steps = float(state["biased"]), int(state["steps"])
