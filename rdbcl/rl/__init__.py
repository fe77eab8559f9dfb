"""The RL trainers (TRL's ``GRPOTrainer`` with the previous task's policy as KL anchor; RDB-CL's per-sample β;
RaPO's retention reward) and their math: per-sample KL weights, reasoning-portability estimators, the reasoning span
of a completion, trajectory drift."""
