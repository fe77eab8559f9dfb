"""Learning without forgetting (Li & Hoiem, 2017): distil the previous task's model into the current one on the new
task's inputs — the KL divergence of the teacher's from the student's next-token distribution on the answer tokens,
at temperature T (scaled by T², as in Hinton et al., 2015)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


FORWARD_KEYS = ("labels", "use_cache", "fused_lm_head", "num_items_in_batch", "completion_mask")


class DistillationPenalty:
    name = "lwf"

    def __init__(self, teacher, weight: float = 1.0, temperature: float = 2.0):
        self.teacher, self.weight, self.temperature = teacher.eval(), weight, temperature
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def __call__(self, model, inputs: dict) -> torch.Tensor:
        forward = {k: v for k, v in inputs.items() if k not in FORWARD_KEYS}
        student = model(**forward).logits[:, :-1]
        with torch.no_grad():
            teacher = self.teacher(**forward).logits[:, :-1]
        mask = inputs["labels"][:, 1:] != -100  # positions that predict an answer token
        if not mask.any():
            return student.sum() * 0.0
        t = self.temperature
        log_student = F.log_softmax(student[mask].float() / t, dim=-1)
        log_teacher = F.log_softmax(teacher[mask].float() / t, dim=-1)
        kl = F.kl_div(log_student, log_teacher, log_target=True, reduction="batchmean")
        return self.weight * kl * t * t
