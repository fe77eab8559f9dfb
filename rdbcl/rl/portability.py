"""Reasoning portability (RP) estimators: how well the previous policy's behaviour carries over to each prompt.

Pure tensor functions, registered by name (DESIGN §2). Each takes the tensors the GRPO trainer already has for
one global batch of ``P`` prompts × ``G`` completions (``N = P·G`` rows, grouped consecutively as TRL groups them)
and returns one RP per prompt in [0, 1]. Model output and log-probs are untrusted: NaN / ±inf never propagate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass
class PortabilityInputs:
    """What an estimator may read.

    Attributes:
        ref_logps: (N, T) per-token log-probs of the completions under the anchor π_{k−1}.
        mask: (N, T) 1 on completion tokens, 0 on padding.
        rewards: (N,) total verified reward per completion (NaN: unscorable).
        num_generations: G, completions per prompt.
        policy_logps: (N, T) per-token log-probs under the current policy, when available.
        anchor_pass_rate: (N,) fraction of correct answers among rollouts sampled from the anchor itself for each
            row's prompt, when the estimator needs it.
        prefix_pass: (N,) 1 when the anchor, continuing the first part of that completion's reasoning, reached an
            answer that verifies, else 0 (``prefix_transfer``).
        reward_threshold: τ_r; a completion with reward > τ_r counts as correct.
        fallback: RP of a prompt with no correct completion: ``uniform`` (all completions weigh equally) or ``zero``.
    """

    ref_logps: torch.Tensor
    mask: torch.Tensor
    rewards: torch.Tensor
    num_generations: int
    policy_logps: torch.Tensor | None = None
    anchor_pass_rate: torch.Tensor | None = None
    prefix_pass: torch.Tensor | None = None
    reward_threshold: float = 0.5
    fallback: str = "uniform"


Estimator = Callable[[PortabilityInputs], torch.Tensor]
_ESTIMATORS: dict[str, Estimator] = {}


def register_estimator(name: str) -> Callable[[Estimator], Estimator]:
    """Register an RP estimator ``fn(PortabilityInputs) -> (P,) tensor in [0, 1]`` under ``name``."""

    def wrap(fn: Estimator) -> Estimator:
        _ESTIMATORS[name] = fn
        return fn

    return wrap


def available_estimators() -> list[str]:
    return sorted(_ESTIMATORS)


def get_estimator(name: str) -> Estimator:
    if name not in _ESTIMATORS:
        raise KeyError(f"Unknown portability estimator {name!r}; choose one of {available_estimators()}.")
    return _ESTIMATORS[name]


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, T) → ((N,) mean over the finite masked tokens, (N,) bool: the row had at least one such token)."""
    valid = mask.bool() & torch.isfinite(x)
    total = torch.where(valid, x, torch.zeros_like(x)).sum(-1)
    count = valid.sum(-1)
    return total / count.clamp(min=1), count > 0


def _grouped(x: torch.Tensor, g: int) -> torch.Tensor:
    if x.shape[0] % g:
        raise ValueError(f"{x.shape[0]} completions do not split into groups of num_generations={g}.")
    return x.view(-1, g)


@register_estimator("anchor_likelihood")
def anchor_likelihood(inp: PortabilityInputs) -> torch.Tensor:
    """Mean over a prompt's *correct* completions of their geometric-mean token probability under the anchor.

    A ``-inf`` anchor log-prob (the anchor cannot produce the token) makes that completion's probability 0; NaN and
    ``+inf`` tokens are unknown and left out of the mean; a completion with no usable token has probability 0.
    """
    logps = inp.ref_logps.float()  # (N, T)
    logps = torch.where(torch.isposinf(logps), torch.full_like(logps, torch.nan), logps.clamp(max=0.0))
    impossible = (torch.isneginf(logps) & inp.mask.bool()).any(-1)  # (N,)
    mean_logp, usable = masked_mean(logps, inp.mask)
    p = torch.exp(mean_logp).masked_fill(impossible | ~usable, 0.0)  # (N,)
    p = _grouped(p, inp.num_generations)  # (P, G)
    rewards = _grouped(inp.rewards.float(), inp.num_generations)
    w = (rewards.nan_to_num(nan=-torch.inf) > inp.reward_threshold).float()  # (P, G)
    any_correct = w.sum(-1) > 0
    rp_correct = (w * p).sum(-1) / w.sum(-1).clamp(min=1)
    fallback = p.mean(-1) if inp.fallback == "uniform" else torch.zeros_like(rp_correct)
    return torch.where(any_correct, rp_correct, fallback).clamp(0.0, 1.0)


@register_estimator("policy_agreement")
def policy_agreement(inp: PortabilityInputs) -> torch.Tensor:
    """exp(−mean_g mean_t |l^π − l^ref|): how little the current policy has drifted from the anchor on the prompt."""
    if inp.policy_logps is None:
        raise ValueError("policy_agreement needs the policy's per-token log-probs (policy_logps).")
    gap = (inp.policy_logps.float() - inp.ref_logps.float()).abs()  # (N, T)
    drift, usable = masked_mean(gap, inp.mask)  # non-finite gaps drop out of the mean
    drift = drift.masked_fill(~usable, torch.inf)  # nothing comparable: no evidence of agreement
    return torch.exp(-_grouped(drift, inp.num_generations).mean(-1)).clamp(0.0, 1.0)


@register_estimator("anchor_pass_rate")
def anchor_pass_rate(inp: PortabilityInputs) -> torch.Tensor:
    """Answer-level ablation: the previous policy's own pass rate on the prompt (rollouts sampled from the anchor).

    DESIGN §2 keeps it to show why answer-level signals are unreliable out of distribution.
    """
    if inp.anchor_pass_rate is None:
        raise ValueError("anchor_pass_rate needs the anchor's pass rate per row (anchor_pass_rate).")
    rate = _grouped(inp.anchor_pass_rate.float().nan_to_num(nan=0.0), inp.num_generations)
    return rate.mean(-1).clamp(0.0, 1.0)


@register_estimator("prefix_transfer")
def prefix_transfer(inp: PortabilityInputs) -> torch.Tensor:
    """Reasoning-level: the fraction of a prompt's rollouts whose reasoning prefix the anchor carries on to a verified
    answer (DESIGN §2) — whether the reasoning transfers, not whether the previous policy knew the answer.

    The trainer fills ``prefix_pass`` (one greedy continuation by π_{k−1} per rollout, cached per prompt and prefix).
    """
    if inp.prefix_pass is None:
        raise ValueError("prefix_transfer needs the anchor's continuation outcomes per row (prefix_pass).")
    passed = _grouped(inp.prefix_pass.float().nan_to_num(nan=0.0), inp.num_generations)  # (P, G)
    return passed.mean(-1).clamp(0.0, 1.0)
