"""Cross-modal consistency: keep the image–text similarity structure of a batch close to the previous model's.

For a batch of B samples, ``S[i, j]`` is the cosine similarity of sample i's image features (the projector's output,
mean over its tokens) and sample j's prompt text (mean input embedding of its text tokens); the penalty is the mean
squared difference between the current and the previous model's S. Zero when the two models agree.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _image_features(model, inputs: dict) -> torch.Tensor:
    extra = {"pixel_attention_mask": inputs["pixel_attention_mask"]} if "pixel_attention_mask" in inputs else {}
    if "image_grid_thw" in inputs:  # Qwen-VL
        extra["image_grid_thw"] = inputs["image_grid_thw"]
    out = model.get_image_features(pixel_values=inputs["pixel_values"], **extra)
    feats = getattr(out, "pooler_output", None)
    feats = out.last_hidden_state if feats is None else feats
    if isinstance(feats, (list, tuple)):  # per sample (Idefics3: empty for a text-only one) or per image (Qwen-VL)
        return torch.stack([f.reshape(-1, f.shape[-1]).mean(0) for f in feats if f.numel()])
    return feats.reshape(feats.shape[0], -1, feats.shape[-1]).mean(1)


def _text_features(model, inputs: dict) -> torch.Tensor:
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask", torch.ones_like(ids)).bool()
    image_token = getattr(model.config, "image_token_id", getattr(model.config, "image_token_index", None))
    if image_token is not None:
        mask &= ids != image_token
    if "labels" in inputs:  # the prompt's text, not the answer being learned
        mask &= inputs["labels"] == -100
    emb = model.get_input_embeddings()(ids)
    weights = mask.unsqueeze(-1).to(emb.dtype)
    return (emb * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def similarity_structure(model, inputs: dict) -> torch.Tensor:
    """(I, B) cosine similarities between each of the I images' (or samples with images') features and each sample's
    prompt text; I = B when every sample has one image."""
    model = getattr(model, "module", model)
    images = _image_features(model, inputs)
    texts = _text_features(model, inputs)
    per_sample = images.shape[0] // texts.shape[0]
    if per_sample > 1:  # several images per sample: their mean
        images = images.reshape(texts.shape[0], per_sample, -1).mean(1)
    return F.normalize(images.float(), dim=-1) @ F.normalize(texts.float(), dim=-1).T


class CrossModalConsistency:
    name = "consistency"

    def __init__(self, previous, weight: float = 1.0):
        self.previous, self.weight = previous.eval(), weight
        for p in self.previous.parameters():
            p.requires_grad_(False)

    def __call__(self, model, inputs: dict) -> torch.Tensor:
        if "pixel_values" not in inputs:  # a text-only batch has no image–text structure
            return torch.zeros((), device=inputs["input_ids"].device)
        current = similarity_structure(model, inputs)
        with torch.no_grad():
            previous = similarity_structure(self.previous, inputs)
        return self.weight * ((current - previous) ** 2).mean()
