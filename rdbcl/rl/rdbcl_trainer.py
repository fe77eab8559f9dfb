"""``RDBCLTrainer``: GRPO whose KL weight is one β per sample, set from that sample's reasoning portability.

Two small hooks on TRL's ``GRPOTrainer`` and nothing forked:

- ``_generate_and_score_completions``: after TRL has generated, scored and computed the anchor's log-probs, gather
  them over the global batch, estimate RP per prompt (``rdbcl.rl.portability``), map it to β (``rdbcl.rl.kl``) and
  attach the local rows' β as a per-sample tensor, which TRL then shuffles and splits together with its samples.
- ``_compute_loss``: TRL adds ``self.beta * per_token_kl``; for the duration of the call ``self.beta`` is a
  :class:`PerSampleBeta` that broadcasts β_i over the sample's tokens. With β_i ≡ β this is stock TRL's loss.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch
from transformers import TrainerCallback

import reward_fns
from rdbcl.models import generation
from rdbcl.models.loading import tokenizer_of
from rdbcl.rl.kl import RunningStats, per_sample_beta, robust_center_spread
from rdbcl.rl.portability import PortabilityInputs, get_estimator
from rdbcl.rl.reasoning_span import reasoning_prefix, span_token_mask
from rdbcl.rl.trainer import ContinualGRPOTrainer


class HistogramCallback(TrainerCallback):
    """At each logging step, RP and β of the steps since the last log as histograms, for loggers that draw them
    (tensorboard, wandb); scalar summaries go through TRL's metrics for every logger."""

    def __init__(self, trainer: RDBCLTrainer):
        self.trainer = trainer
        self.logged_upto = 0

    def on_log(self, args, state, control, **kwargs):
        history = self.trainer.rp_history[self.logged_upto:]
        self.logged_upto = len(self.trainer.rp_history)
        if not history or not state.is_world_process_zero:
            return
        values = {name: [v for h in history for v in h[f"{name}_values"]] for name in ("rp", "beta")}
        for callback in self.trainer.callback_handler.callbacks:
            writer = getattr(callback, "tb_writer", None)  # transformers' TensorBoardCallback
            if writer is not None:
                for name, vals in values.items():
                    writer.add_histogram(f"rdbcl/{name}_hist", torch.tensor(vals), state.global_step)
            if type(callback).__name__ == "WandbCallback" and getattr(callback, "_wandb", None) is not None:
                wandb = callback._wandb
                wandb.log({f"rdbcl/{n}_hist": wandb.Histogram(v) for n, v in values.items()}, commit=False)


class PerSampleBeta:
    """Stands in for TRL's scalar ``beta`` inside its loss: ``beta * per_token_kl`` → ``β_i[:, None] * kl``."""

    def __init__(self, beta: torch.Tensor, scalar: float):
        self.beta = beta  # (B,)
        self.scalar = scalar  # TRL only tests `beta != 0.0` to decide whether a KL term exists

    def __ne__(self, other) -> bool:
        return self.scalar != other

    def __eq__(self, other) -> bool:
        return self.scalar == other

    def __mul__(self, per_token: torch.Tensor) -> torch.Tensor:
        return self.beta.to(per_token.dtype).unsqueeze(-1) * per_token  # (B, 1) * (B, T)

    __rmul__ = __mul__
    __hash__ = None


class RDBCLTrainer(ContinualGRPOTrainer):
    """See the module docstring. Reads its settings from the ``ContinualConfig`` fields ``rp_*`` and ``beta_*``.

    Args:
        correctness_reward: name of the reward function whose value decides whether a completion is correct
            (default: the first reward function).
    """

    def __init__(self, *args, correctness_reward: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        cfg = self.args
        self.estimator = get_estimator(cfg.rp_estimator)
        self.rp_stats = RunningStats(decay=cfg.beta_ema_decay)
        names = list(self.reward_func_names)
        self.correctness_index = names.index(correctness_reward) if correctness_reward in names else 0
        self.rp_history: list[dict[str, float]] = []
        self._pass_rate_cache: dict[str, float] = {}
        self._prefix_cache: dict[str, float] = {}
        self._token_texts: dict[int, str] = {}
        self._histograms = HistogramCallback(self)
        self.add_callback(self._histograms)

    # ------------------------------------------------------------------------------------ checkpoint state
    def checkpoint_state(self) -> dict:
        # RDB-CL's running RP statistics, history and pass-rate cache, so a resumed task maps RP to β as the
        # uninterrupted one.
        return {"center": self.rp_stats.center, "spread": self.rp_stats.spread, "rp_history": self.rp_history,
                "pass_rate_cache": self._pass_rate_cache, "prefix_cache": self._prefix_cache}

    def restore_checkpoint_state(self, saved: dict) -> None:
        self.rp_stats.center, self.rp_stats.spread = saved["center"], saved["spread"]
        self.rp_history = saved["rp_history"]
        self._pass_rate_cache = saved["pass_rate_cache"]
        self._prefix_cache = saved.get("prefix_cache", {})  # checkpoints written before prefix_transfer existed
        self._histograms.logged_upto = len(self.rp_history)

    # ------------------------------------------------------------------------------------------------ hooks
    def _generate_and_score_completions(self, inputs):
        # Before TRL generates: the anchor's own rollouts are sampled from the weights the task started from.
        pass_rate = self._anchor_pass_rates(inputs) if self.args.rp_estimator == "anchor_pass_rate" else None
        out = super()._generate_and_score_completions(inputs)
        if self.beta == 0.0 or "ref_per_token_logps" not in out:
            return out
        mode, num_generations = self._mode, self._group_size
        n_local = out["completion_ids"].shape[0]

        ref = self._gather_rows(out["ref_per_token_logps"], pad=0.0)  # (N, T)
        mask = self._gather_rows(self._span_mask(out), pad=0)  # (N, T): the tokens of rp_span
        policy = self._policy_logps(out) if self.args.rp_estimator == "policy_agreement" else None
        prefix_pass = self._prefix_passes(inputs, out) if self.args.rp_estimator == "prefix_transfer" else None
        rp = self.estimator(PortabilityInputs(
            ref_logps=ref, mask=mask, rewards=self._rewards_per_func[:, self.correctness_index].to(ref.device),
            num_generations=num_generations, policy_logps=None if policy is None else self._gather_rows(policy, 0.0),
            anchor_pass_rate=None if pass_rate is None else self.accelerator.gather(pass_rate.to(ref.device)),
            prefix_pass=None if prefix_pass is None else self.accelerator.gather(prefix_pass.to(ref.device)),
            reward_threshold=self.args.rp_reward_threshold, fallback=self.args.rp_fallback,
        ))  # (P,)
        center, spread = self.rp_stats.update(rp) if mode == "train" else robust_eval_stats(self.rp_stats, rp)
        beta = per_sample_beta(rp, self.args.beta_min, self.args.beta_max, self.args.beta_schedule,
                               self.args.beta_direction, center=center, spread=spread,
                               lo=self.args.beta_linear_lo, hi=self.args.beta_linear_hi)  # (P,)
        beta_local = beta.repeat_interleave(num_generations)[self._local_rows(n_local)]
        out["rdbcl_beta"] = beta_local.to(out["completion_mask"].device)
        self._log_rp(mode, rp, beta, center, spread)
        return out

    def _compute_loss(self, model, inputs):
        beta = inputs.get("rdbcl_beta")
        if beta is None:
            return super()._compute_loss(model, inputs)
        scalar = self.beta
        self.beta = PerSampleBeta(beta, scalar)
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self.beta = scalar

    # ------------------------------------------------------------------------------------------------ helpers
    def _anchor_generate(self, rows: list[dict], num_samples: int, prefixes: list[str] | None = None) -> list[str]:
        """Completions of π_{k−1} for ``rows`` (continuing ``prefixes`` when given; sampled when ``num_samples`` > 0,
        else greedy). Full fine-tuning: TRL's frozen reference model; LoRA: the policy with its adapter disabled."""
        model = self.accelerator.unwrap_model(self.model)
        anchor = self.ref_model if self.ref_model is not None else model
        lora = anchor is model and hasattr(model, "disable_adapter")
        use_anchor = model.disable_adapter() if lora else nullcontext()
        was_training = anchor.training
        anchor.eval()
        try:
            with use_anchor:
                return generation.generate_answers(
                    anchor, self.processing_class, [r["prompt"] for r in rows],
                    [r.get("images", r.get("image")) for r in rows], self.max_completion_length,
                    num_samples=num_samples, temperature=self.temperature, prefixes=prefixes)
        finally:
            anchor.train(was_training)

    def _correct(self, rows: list[dict], completions: list[str], repeats: int = 1) -> list[float | None]:
        """1.0 / 0.0 per completion by the correctness reward (``rp_reward_threshold``); None where it abstains.
        Completion ``j`` belongs to row ``j // repeats``."""
        columns = {c: [r[c] for r in rows for _ in range(repeats)] for c in rows[0]
                   if c not in ("prompt", "image", "images")}
        scores = reward_fns.score(self.reward_funcs[self.correctness_index], completions=completions, **columns)
        return [None if v is None else float(v > self.args.rp_reward_threshold) for v in scores]

    def _anchor_pass_rates(self, inputs: list[dict]) -> torch.Tensor:
        """(N_local,) pass rate of the anchor on each row's prompt, sampled once per prompt and cached for the task."""
        keys = [_row_key(row) for row in inputs]
        missing = {k: row for k, row in zip(keys, inputs, strict=True) if k not in self._pass_rate_cache}
        if missing:
            rows, k = list(missing.values()), self.args.rp_anchor_rollouts
            verdicts = self._correct(rows, self._anchor_generate(rows, num_samples=k), repeats=k)
            for i, key in enumerate(missing):
                sample = [v for v in verdicts[i * k:(i + 1) * k] if v is not None]
                self._pass_rate_cache[key] = sum(sample) / max(len(sample), 1)
        return torch.tensor([self._pass_rate_cache[k] for k in keys], dtype=torch.float32)

    def _completion_texts(self, out: dict) -> list[str]:
        tokenizer = tokenizer_of(self.processing_class)
        ids = [row[mask.bool()].tolist() for row, mask in zip(out["completion_ids"], out["completion_mask"],
                                                                strict=True)]
        return tokenizer.batch_decode(ids, skip_special_tokens=True)

    def _prefix_passes(self, inputs: list[dict], out: dict) -> torch.Tensor:
        """(N_local,) whether π_{k−1}, continuing the first ``rp_prefix_fraction`` of each rollout's reasoning
        (greedily), reaches an answer that verifies; cached per prompt and prefix for the task."""
        prefixes = [reasoning_prefix(t, self.args.rp_prefix_fraction) for t in self._completion_texts(out)]
        keys = [_row_key(row) + "|" + prefix for row, prefix in zip(inputs, prefixes, strict=True)]
        missing = {k: (row, prefix) for k, row, prefix in zip(keys, inputs, prefixes, strict=True)
                   if k not in self._prefix_cache}
        if missing:
            rows, starts = [r for r, _ in missing.values()], [p for _, p in missing.values()]
            continued = self._anchor_generate(rows, num_samples=0, prefixes=starts)
            verdicts = self._correct(rows, [p + c for p, c in zip(starts, continued, strict=True)])
            self._prefix_cache.update({k: v or 0.0 for k, v in zip(missing, verdicts, strict=True)})
        return torch.tensor([self._prefix_cache[k] for k in keys], dtype=torch.float32)

    def _span_mask(self, out: dict) -> torch.Tensor:
        """(N_local, T) the completion mask restricted to ``rp_span`` (``completion``: unchanged)."""
        mask = out["completion_mask"]
        if self.args.rp_span == "completion":
            return mask
        tokenizer = tokenizer_of(self.processing_class)
        texts = []
        for row, row_mask in zip(out["completion_ids"].tolist(), mask.tolist(), strict=True):
            for token in row:
                if token not in self._token_texts:  # per-token text, decoded once per token id
                    self._token_texts[token] = tokenizer.decode([token], skip_special_tokens=False)
            texts.append([self._token_texts[t] if m else "" for t, m in zip(row, row_mask, strict=True)])
        return mask * span_token_mask(texts, self.args.rp_span).to(mask.device, mask.dtype)

    def _log_rp(self, mode: str, rp: torch.Tensor, beta: torch.Tensor, center: float, spread: float) -> None:
        stats = {}
        for name, x in (("rp", rp.float()), ("beta", beta.float())):
            x = x[torch.isfinite(x)]
            if x.numel() == 0:
                continue
            stats.update({f"rdbcl/{name}/mean": x.mean().item(), f"rdbcl/{name}/std": x.std(unbiased=False).item(),
                          f"rdbcl/{name}/min": x.min().item(), f"rdbcl/{name}/max": x.max().item()})
        stats.update({"rdbcl/rp/center": center, "rdbcl/rp/spread": spread})
        for key, value in stats.items():
            self._metrics[mode][key].append(value)
        if mode == "train":
            self.rp_history.append({"step": self.state.global_step, **stats,
                                    "rp_values": rp.tolist(), "beta_values": beta.tolist()})


def robust_eval_stats(stats: RunningStats, rp: torch.Tensor) -> tuple[float, float]:
    """Evaluation batches use the training statistics without moving them."""
    if stats.center is None:
        return robust_center_spread(rp)
    return stats.center, stats.spread


def _row_key(row: dict) -> str:
    """Identity of a prompt: its text, ground truth and image pixels (the same question recurs with other images)."""
    import hashlib
    import json

    digest = hashlib.sha1(json.dumps([row.get("prompt"), row.get("answer")], default=str).encode())
    for image in (row.get("images") or [row.get("image")]):
        if image is not None and hasattr(image, "tobytes"):
            digest.update(image.tobytes())
    return digest.hexdigest()
