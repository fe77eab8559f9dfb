"""What the anchor tests (tests/rdbcl/test_anchor.py for the embedded model, test_model_families.py for every family)
share: a stand-in π_{k−1} saved like the loop saves a policy, and a checkpoint's own log-probs on a GRPO batch."""

from __future__ import annotations

from pathlib import Path

import torch

from rdbcl.models.loading import load_policy, save_policy


# what any family's processor puts beside the token ids of a GRPO batch (pixel values, grids, masks, token types)
IMAGE_INPUTS = ("pixel_values", "pixel_attention_mask", "image_grid_thw", "image_sizes", "token_type_ids",
                "mm_token_type_ids")


def image_inputs(out: dict, *extra: str) -> dict:
    """The batch's image inputs (plus ``extra`` keys, e.g. ``num_images`` for TRL's own forward) that it holds."""
    return {k: out[k] for k in (*IMAGE_INPUTS, *extra) if k in out}


def perturbed_checkpoint(base: str, model_args, processor, tmp_path: Path):
    """A stand-in for π_{k−1}: the base model with shifted weights, saved like the loop saves a policy; returns the
    model and its directory."""
    model = load_policy(base, model_args)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    path = tmp_path / "policies" / "task0-colour"
    save_policy(model, processor, path)
    return model, path


def checkpoint_logps(path: Path, model_args, out: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probs of the batch's completions under the checkpoint, by its own forward: with the batch's
    image inputs, and without the image (the image tokens replaced by padding)."""
    model = load_policy(str(path), model_args).eval().to(out["prompt_ids"].device)  # the trainer's device
    ids = torch.cat([out["prompt_ids"], out["completion_ids"]], dim=1)
    mask = torch.cat([out["prompt_mask"], out["completion_mask"]], dim=1)
    n = out["completion_ids"].shape[1]

    def logps(input_ids, **kwargs) -> torch.Tensor:  # (B, n)
        with torch.no_grad():
            logits = model(input_ids=input_ids, attention_mask=mask, **kwargs).logits[:, -n - 1:-1]
        return torch.log_softmax(logits.float(), -1).gather(-1, out["completion_ids"].unsqueeze(-1)).squeeze(-1)

    image_token = model.config.image_token_id
    return logps(ids, **image_inputs(out)), logps(ids.masked_fill(ids == image_token, 0))
