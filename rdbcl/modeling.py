"""Loading policies and processors from a hub id or a local path, and the offline embedded default."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from trl import ModelConfig


def resolve_model_path(model_args: ModelConfig) -> tuple[str, float]:
    """The model to start the stream from: ``model_name_or_path`` as given, or the embedded tiny VLM (built once).

    Returns:
        (path_or_id, build_seconds) where ``build_seconds`` is the one-time offline build time (0.0 when cached).
    """
    if model_args.model_name_or_path:
        return model_args.model_name_or_path, 0.0
    from rdbcl.tiny_vlm import ensure_tiny_vlm

    path, seconds = ensure_tiny_vlm()
    return str(path), seconds


def _dtype(model_args: ModelConfig):
    dtype = model_args.dtype or "float32"
    return dtype if dtype == "auto" else getattr(torch, dtype)


def load_processor(path_or_id: str, model_args: ModelConfig):
    from transformers import AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(
            path_or_id,
            revision=model_args.model_revision,
            trust_remote_code=getattr(model_args, "trust_remote_code", False),
        )
    except ImportError as err:
        raise ImportError(f"Could not build the processor of {path_or_id!r}: {err}. Video processors of some "
                          "models need torchvision; install a torchvision matching your torch.") from err
    tokenizer = getattr(processor, "tokenizer", processor)
    tokenizer.padding_side = "left"  # batched generation appends after the prompt
    return processor


def load_policy(path_or_id: str, model_args: ModelConfig):
    """Load a vision-language policy in the configured dtype (fp32 on CPU by default)."""
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(
        path_or_id,
        revision=model_args.model_revision,
        dtype=_dtype(model_args),
        attn_implementation=model_args.attn_implementation,
        trust_remote_code=getattr(model_args, "trust_remote_code", False),
    )
    return model


def save_policy(model, processor, path: Path) -> None:
    """Save model and processor so the directory loads like any hub model (and serves as the next anchor).

    Written to a temporary directory first and renamed, so an interrupted save never leaves a half-written policy.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    processor.save_pretrained(tmp)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
