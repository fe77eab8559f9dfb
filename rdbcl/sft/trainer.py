"""``ContinualSFTTrainer``: TRL's ``SFTTrainer`` (loss on the answer tokens only) plus a method's penalty terms, and
batches that may mix image and text-only rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import torch
from trl import SFTTrainer
from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

from task_streams.base import image_list


class Penalty(Protocol):
    """A regulariser added to the SFT loss: ``penalty(model, inputs) -> scalar tensor``; ``name`` labels its log."""

    name: str

    def __call__(self, model, inputs: dict) -> torch.Tensor: ...


class ImageListCollator:
    """TRL's vision-language collator, fed each row's ``image`` as an ``images`` list (``[]`` for a text-only row,
    see ``task_streams.base.image_list``) so that a batch may mix image and text-only rows. Hand-written: TRL 1.16's
    collator has no option for it."""

    def __init__(self, collator: DataCollatorForVisionLanguageModeling):
        self.collator = collator

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        return self.collator([as_image_list(example) for example in examples])


def as_image_list(row: dict[str, Any]) -> dict[str, Any]:
    """A copy of the row (TRL's collator edits the rows it gets) with ``images`` in place of ``image``: given both,
    TRL's collator would replace ``images`` by ``[image]``."""
    if "image" not in row:
        return dict(row)
    return {**{k: v for k, v in row.items() if k != "image"}, "images": image_list(row)}


class ContinualSFTTrainer(SFTTrainer):
    """SFT whose loss is TRL's completion-only loss plus ``penalties`` (EWC, distillation, orthogonality, …), each
    logged as ``penalty/<name>``. The data, collation, processor and image handling are TRL's; rows without an image
    reach TRL's collator as image-less samples (:class:`ImageListCollator`)."""

    def __init__(self, *args, penalties: Sequence[Penalty] = (), **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.data_collator, DataCollatorForVisionLanguageModeling):
            self.data_collator = ImageListCollator(self.data_collator)
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
