"""Regularisers of the SFT baselines, each a callable ``penalty(model, inputs) -> scalar`` with a ``name``."""

from rdbcl.sft.penalties.consistency import CrossModalConsistency, similarity_structure
from rdbcl.sft.penalties.distillation import DistillationPenalty
from rdbcl.sft.penalties.ewc import EWCPenalty, diagonal_fisher


__all__ = ["CrossModalConsistency", "DistillationPenalty", "EWCPenalty", "diagonal_fisher", "similarity_structure"]
