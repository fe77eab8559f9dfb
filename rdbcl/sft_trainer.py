"""``ContinualSFTTrainer``: TRL's ``SFTTrainer`` (loss on the answer tokens only) plus a method's penalty terms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
from trl import SFTTrainer


class Penalty(Protocol):
    """A regulariser added to the SFT loss: ``penalty(model, inputs) -> scalar tensor``; ``name`` labels its log."""

    name: str

    def __call__(self, model, inputs: dict) -> torch.Tensor: ...


class ContinualSFTTrainer(SFTTrainer):
    """SFT whose loss is TRL's completion-only loss plus ``penalties`` (EWC, distillation, orthogonality, …), each
    logged as ``penalty/<name>``. The data, collation, processor and image handling are TRL's."""

    def __init__(self, *args, penalties: Sequence[Penalty] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.penalties = list(penalties)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        result = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                      num_items_in_batch=num_items_in_batch)
        if not self.penalties:
            return result
        loss, outputs = result if return_outputs else (result, None)
        mode = "train" if self.model.training else "eval"
        for penalty in self.penalties:
            term = penalty(model, inputs)
            loss = loss + term
            self._metrics[mode][f"penalty/{penalty.name}"].append(
                self.accelerator.gather_for_metrics(term.detach()).mean().item())
        return (loss, outputs) if return_outputs else loss
