"""``ewc``: sequential SFT with elastic weight consolidation toward each earlier task's weights (full fine-tuning).

After a task, the diagonal Fisher of its SFT loss is estimated on ``fisher_batches`` training batches; the next tasks
add ``ewc_lambda/2 · Σ F (θ − θ*)²``. ``ewc_online`` keeps one decayed Fisher (γ = ``ewc_gamma``) and the latest
anchor instead of one term per task.
"""

from __future__ import annotations

from itertools import islice

from rdbcl.methods.base import TaskContext, register_method
from rdbcl.methods.sft import SFTMethod
from rdbcl.sft.penalties import EWCPenalty, diagonal_fisher
from rdbcl.sft.trainer import ContinualSFTTrainer, Penalty


@register_method
class EWCMethod(SFTMethod):
    name = "ewc"

    def __init__(self):
        self.terms: list[tuple[dict, dict]] = []

    def penalties(self, ctx: TaskContext) -> list[Penalty]:
        if ctx.peft_config is not None:
            raise ValueError("ewc: needs full fine-tuning (its penalty is on the model's own weights); set "
                             "use_peft: false, or use a LoRA-based method (olora, moelora).")
        return [EWCPenalty(self.terms, ctx.args.ewc_lambda)] if self.terms else []

    def fisher(self, ctx: TaskContext, trainer: ContinualSFTTrainer) -> dict:
        batches = (trainer._prepare_inputs(b) for b in islice(iter(trainer.get_train_dataloader()),
                                                               ctx.args.fisher_batches))
        return diagonal_fisher(trainer.model, batches, lambda model, inputs: trainer.compute_loss(model, inputs))

    def after_training(self, ctx: TaskContext, trainer: ContinualSFTTrainer) -> None:
        fisher = self.fisher(ctx, trainer)
        anchor = {n: p.detach().cpu().clone() for n, p in trainer.model.named_parameters() if n in fisher}
        if ctx.args.ewc_online and self.terms:
            (_, old), gamma = self.terms[0], ctx.args.ewc_gamma
            self.terms = [(anchor, {n: gamma * old[n] + f for n, f in fisher.items()})]
        else:
            self.terms.append((anchor, fisher))

    def state_dict(self) -> dict:
        return {"terms": self.terms}

    def load_state_dict(self, state: dict) -> None:
        self.terms = state["terms"]
