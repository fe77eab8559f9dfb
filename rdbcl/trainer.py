"""``ContinualGRPOTrainer``: TRL's ``GRPOTrainer`` whose KL anchor is the policy after the previous task."""

from __future__ import annotations

from trl import GRPOTrainer


class ContinualGRPOTrainer(GRPOTrainer):
    """GRPO with the anchor fixed to the weights the task started from (π_{k−1}).

    Full fine-tuning: TRL loads its reference model from ``model.config._name_or_path``; the stream loop points
    that at π_{k−1}'s saved checkpoint. LoRA: π_{k−1} is merged into the base weights, so the reference is the
    model with adapters disabled. When the adapter was already trained (e.g. by an SFT warm-start), TRL would make
    a frozen *copy of that adapter* the reference; we drop that copy so the reference stays π_{k−1}.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self.accelerator.unwrap_model(self.model)
        if self.beta != 0.0 and hasattr(model, "peft_config") and "ref" in model.peft_config:
            model.delete_adapter("ref")
