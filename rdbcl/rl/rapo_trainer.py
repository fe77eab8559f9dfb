"""``RaPOTrainer``: GRPO with RaPO's retention reward and cross-task advantage normalization (``rdbcl.rl.retention``).

One hook on TRL's ``GRPOTrainer``: after TRL has generated, scored, and computed the anchor's log-probs, the
advantages are recomputed from the task reward plus ``λ·exp(−α·drift)`` (drift from π_{k−1}, TRL's reference
model) and divided by CTAN's running spread instead of each group's std. TRL's own ``reward*`` metrics keep
showing the task reward; the retention terms are logged under ``rapo/``.
"""

from __future__ import annotations

import torch

from rdbcl.rl.retention import CrossTaskNormalizer, retention_reward, trajectory_drift
from rdbcl.rl.trainer import ContinualGRPOTrainer


class RaPOTrainer(ContinualGRPOTrainer):
    """Reads ``rapo_lambda`` / ``rapo_alpha`` from the ``ContinualConfig``.

    Args:
        normalizer: CTAN's running spread, owned by the method so that it carries over to the next task.
        retention: add the retention reward (RaPO turns it on from the second task: on the first, the anchor is
            the base model itself).
    """

    def __init__(self, *args, normalizer: CrossTaskNormalizer, retention: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if self.beta == 0.0:
            raise ValueError("rapo: needs the anchor's log-probs, which TRL computes only with beta > 0.")
        self.normalizer, self.retention = normalizer, retention
        self.rapo_history: list[dict[str, float]] = []

    def checkpoint_state(self) -> dict:
        return {"ctan": self.normalizer.state_dict(), "rapo_history": self.rapo_history}

    def restore_checkpoint_state(self, saved: dict) -> None:
        self.normalizer.load_state_dict(saved["ctan"])
        self.rapo_history = saved["rapo_history"]

    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        mode, rewards_per_func = self._mode, self._rewards_per_func
        device = rewards_per_func.device
        task_reward = (rewards_per_func * self.reward_weights.to(device).unsqueeze(0)).nansum(dim=1)
        task_reward[torch.isnan(rewards_per_func).all(dim=1)] = torch.nan  # unscorable: no advantage, as in TRL
        total, stats = task_reward, {}
        if self.retention:
            drift = self.accelerator.gather(trajectory_drift(
                self._policy_logps(out), out["ref_per_token_logps"], out["completion_mask"]))
            bonus = retention_reward(drift.to(device), self.args.rapo_alpha)
            total = task_reward + self.args.rapo_lambda * bonus
            stats = {"rapo/drift/mean": drift.mean().item(), "rapo/drift/max": drift.max().item(),
                     "rapo/retention/mean": bonus.mean().item()}
        advantages, sigma, sigma_batch = self.normalizer.advantages(total, self._group_size, update=mode == "train")
        n_local = out["completion_ids"].shape[0]
        out["advantages"] = advantages[self._local_rows(n_local)].to(out["advantages"].device)
        stats.update({"rapo/sigma_hat": sigma, "rapo/sigma_batch": sigma_batch,
                      "rapo/total_reward/mean": torch.nanmean(total).item()})
        for key, value in stats.items():
            self._metrics[mode][key].append(value)
        if mode == "train":
            self.rapo_history.append({"step": self.state.global_step, **stats})
        return out
