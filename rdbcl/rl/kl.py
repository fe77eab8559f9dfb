"""Per-sample KL weights: β_i = β_min + (β_max − β_min) · g(RP_i) (DESIGN §3), as pure functions.

``g`` is monotone in [0, 1]; ``direction="protect"`` gives high-portability samples the larger β (tight anchor),
``explore`` the reverse. Batch statistics (median, spread) are computed by the caller over the *global* batch, so
every process maps RP to β identically.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


SCHEDULES = ("sigmoid", "linear", "threshold", "constant")
DIRECTIONS = ("protect", "explore")


def robust_center_spread(rp: torch.Tensor, min_spread: float = 1e-3) -> tuple[float, float]:
    """Median and MAD-based spread (×1.4826, the normal-consistent scale) of the finite RP values."""
    finite = rp[torch.isfinite(rp)].float()
    if finite.numel() == 0:
        return 0.5, 1.0
    center = finite.median()
    spread = 1.4826 * (finite - center).abs().median()
    return float(center), max(float(spread), min_spread)


@dataclass
class RunningStats:
    """EMA of the batch median and spread of RP, so the sigmoid's centre moves smoothly across steps.

    ``decay = 0`` uses the current global batch alone.
    """

    decay: float = 0.9
    center: float | None = None
    spread: float | None = None

    def update(self, rp: torch.Tensor) -> tuple[float, float]:
        center, spread = robust_center_spread(rp)
        if self.center is None or self.decay == 0.0:
            self.center, self.spread = center, spread
        else:
            self.center = self.decay * self.center + (1 - self.decay) * center
            self.spread = self.decay * self.spread + (1 - self.decay) * spread
        return self.center, self.spread


def gate(rp: torch.Tensor, schedule: str, center: float = 0.5, spread: float = 0.1, lo: float = 0.0,
         hi: float = 1.0) -> torch.Tensor:
    """g(RP) in [0, 1] for each sample; NaN RP maps to 0.5 (no information either way)."""
    rp = rp.float()
    if schedule == "sigmoid":
        g = torch.sigmoid((rp - center) / spread)
    elif schedule == "linear":
        g = ((rp - lo) / max(hi - lo, 1e-12)).clamp(0.0, 1.0)
    elif schedule == "threshold":
        g = (rp > center).float()
    elif schedule == "constant":
        g = torch.ones_like(rp)
    else:
        raise ValueError(f"Unknown beta schedule {schedule!r}; choose one of {SCHEDULES}.")
    return torch.where(torch.isnan(rp), torch.full_like(g, 0.5), g)


def per_sample_beta(rp: torch.Tensor, beta_min: float, beta_max: float, schedule: str = "sigmoid",
                    direction: str = "protect", **gate_kwargs) -> torch.Tensor:
    """(P,) RP → (P,) β in [β_min, β_max]."""
    if direction not in DIRECTIONS:
        raise ValueError(f"Unknown beta direction {direction!r}; choose one of {DIRECTIONS}.")
    g = gate(rp, schedule, **gate_kwargs)
    if direction == "explore" and schedule != "constant":
        g = 1.0 - g
    return beta_min + (beta_max - beta_min) * g
