"""Elastic weight consolidation (Kirkpatrick et al., 2017): a diagonal-Fisher-weighted pull toward earlier tasks'
weights, ``λ/2 · Σ_t Σ_i F_t,i (θ_i − θ*_t,i)²``; online EWC (Schwarz et al., 2018) keeps one decayed sum instead."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch


def _unwrap(model):
    return getattr(model, "module", model)


class EWCPenalty:
    """Each term is (anchor weights θ*_t, Fisher F_t) over named parameters; parameters absent from F are free."""

    name = "ewc"

    def __init__(self, terms: list[tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]], weight: float):
        self.terms, self.weight = terms, weight

    def __call__(self, model, inputs: dict | None = None) -> torch.Tensor:
        params = dict(_unwrap(model).named_parameters())
        total = None
        for anchor, fisher in self.terms:
            for name, f in fisher.items():
                p = params[name]
                term = (f.to(p.device) * (p - anchor[name].to(p.device)) ** 2).sum()
                total = term if total is None else total + term
        if total is None:
            return torch.zeros((), device=next(iter(params.values())).device)
        return 0.5 * self.weight * total


def diagonal_fisher(model, batches: Iterable[dict], loss_fn: Callable[[object, dict], torch.Tensor],
                    names: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
    """Empirical diagonal Fisher: the mean over ``batches`` of the squared gradient of the task loss (batch-level
    gradients, the usual approximation for LLM-scale EWC). ``names`` restricts it to some parameters."""
    module = _unwrap(model)
    wanted = set(names) if names is not None else None
    params = {n: p for n, p in module.named_parameters() if p.requires_grad and (wanted is None or n in wanted)}
    fisher = {n: torch.zeros_like(p, device="cpu") for n, p in params.items()}
    was_training, count = module.training, 0
    module.train()
    for inputs in batches:
        module.zero_grad(set_to_none=True)
        loss_fn(model, inputs).backward()
        for n, p in params.items():
            if p.grad is not None:
                fisher[n] += p.grad.detach().float().cpu() ** 2
        count += 1
    module.zero_grad(set_to_none=True)
    module.train(was_training)
    return {n: f / max(count, 1) for n, f in fisher.items()}
