"""The SFT trainer of the CoIN baselines (TRL's ``SFTTrainer`` plus penalty terms), the penalties themselves (EWC,
distillation, consistency, orthogonality) and MoELoRA's mixture-of-adapters layer."""
