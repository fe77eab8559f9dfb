"""``rapo``: RaPO (Lou et al., arXiv 2605.09640) — GRPO anchored to π_{k−1} whose reward gains a retention bonus
``λ·exp(−α·drift)`` for rollouts that stay close to π_{k−1}, with advantages normalised by a reward spread carried
across tasks (CTAN). Defaults follow the paper: λ = 0.5, α = 20, EMA decay 0.999, retention from the second task.
"""

from __future__ import annotations

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.grpo import GRPOMethod
from rdbcl.rl.rapo_trainer import RaPOTrainer
from rdbcl.rl.retention import CrossTaskNormalizer


@register_method
class RaPOMethod(GRPOMethod):
    name = "rapo"
    trainer_cls = RaPOTrainer

    def __init__(self):
        self.normalizer: CrossTaskNormalizer | None = None
        self._restored: dict | None = None  # a continued run's σ̂, applied when the next task starts

    def _normalizer(self, ctx: TaskContext) -> CrossTaskNormalizer:
        if self.normalizer is None:
            self.normalizer = CrossTaskNormalizer(decay=ctx.args.rapo_ema)
        if self._restored is not None:
            self.normalizer.load_state_dict(self._restored)
            self._restored = None
        return self.normalizer

    def trainer_kwargs(self, ctx: TaskContext) -> dict:
        return {**super().trainer_kwargs(ctx), "normalizer": self._normalizer(ctx), "retention": ctx.index >= 1}

    def summarize(self, trainer: RaPOTrainer) -> dict:
        summary, history = super().summarize(trainer), trainer.rapo_history
        if not history:
            return summary
        return {**summary, **self.step_summary(history, "rapo/"), "sigma_hat_end": trainer.normalizer.sigma}

    def state_dict(self) -> dict:
        return {"ctan": self.normalizer.state_dict()} if self.normalizer is not None else {}

    def load_state_dict(self, state: dict) -> None:
        self._restored = state.get("ctan")
