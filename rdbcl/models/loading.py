"""Loading policies (vision-language, or text-only causal LMs) and their processors from a hub id or a local path,
and the offline embedded default."""

from __future__ import annotations

import importlib
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from trl import ModelConfig


class ModelPathError(ValueError):
    """``model_name_or_path`` names no loadable model: a local path that is not there, or a hub id that is malformed,
    unknown or unreachable. Raised before anything is trained or written."""


class TextOnlyModelError(ModelPathError):
    """A text-only model (``is_text_only``) given for a stream with an image task, which it cannot read. Raised when
    the stream loop starts, before anything is trained or written; ``rdbcl-train`` reports it as a model error."""


def _looks_local(name: str) -> bool:
    """A path rather than a hub id (``owner/name`` or ``name``): absolute, relative with ./ ../ ~, or deeper than one
    slash."""
    return (name.startswith(("/", "./", "../", "~")) or name in (".", "..") or name.count("/") > 1
            or "\\" in name)


def check_model_source(name: str, model_args: ModelConfig | None = None) -> None:
    """Fail in one line when ``name`` is neither a saved model directory nor a hub model whose config can be read.

    The hub case reads only ``config.json`` (from the local cache when offline), so a typo or an unreachable hub is
    named before the run directory is touched, not as a traceback from deep inside ``from_pretrained``.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelPathError(f"model_name_or_path: {name!r} is a directory but holds no config.json (not a "
                                 "saved model)")
        return
    if path.exists():
        raise ModelPathError(f"model_name_or_path: {name!r} is a file; give the model's directory or a hub id")
    if _looks_local(name):
        raise ModelPathError(f"model_name_or_path: local path {name!r} does not exist (looked for {path.absolute()})")
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError as err:
        raise ModelPathError(f"model_name_or_path: {name!r} is neither an existing local directory nor a valid hub "
                             f"id ('owner/name'): {err}") from err
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(name, revision=getattr(model_args, "model_revision", None),
                                   trust_remote_code=getattr(model_args, "trust_remote_code", False))
    except OSError as err:
        reason = next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
        raise ModelPathError(f"model_name_or_path: no local directory {name!r}, and the hub model could not be "
                             f"loaded (hub unreachable or id unknown): {reason}") from err


@dataclass(frozen=True)
class EmbeddedModel:
    """A base model built offline on first use and cached under a name that changes with its recipe."""

    path: Callable[[], Path]  # where the current recipe's build lives; nothing is built
    ensure: Callable[[], tuple[Path, float]]  # that path, built first when missing, and the build's seconds


def _named(module: str, function: str) -> Callable:
    """``module.function``, imported when first called. The testbed's π₀ is built with the SFT trainer and
    evaluation, layers above this one, so the embedded bases are named here rather than imported."""

    def call(*args):
        return getattr(importlib.import_module(module), function)(*args)

    return call


# The models a run starts from when none is given, by the name a stream declares (``TaskStream.base_model``): each
# is built offline on first use and cached in ~/.cache/rdbcl (``RDBCL_CACHE``).
EMBEDDED_MODELS = {
    "tiny": EmbeddedModel(_named("rdbcl.models.tiny_vlm", "tiny_vlm_path"),
                          _named("rdbcl.models.tiny_vlm", "ensure_tiny_vlm")),
    "reasoning": EmbeddedModel(_named("rdbcl.testbed.reasoning_base", "reasoning_base_path"),
                               _named("rdbcl.testbed.reasoning_base", "ensure_reasoning_base")),
}


def _embedded(name: str) -> EmbeddedModel:
    if name not in EMBEDDED_MODELS:
        raise ValueError(f"stream base_model: unknown embedded model {name!r}; choose one of "
                         f"{sorted(EMBEDDED_MODELS)}.")
    return EMBEDDED_MODELS[name]


def planned_model_path(model_args: ModelConfig, embedded: str = "tiny") -> str:
    """The model a run of this configuration starts from, without building anything: ``model_name_or_path``, or
    where the stream's embedded model of the current recipe is cached. A finished run that started elsewhere (an
    embedded base whose recipe has changed since) is not a run of this configuration."""
    return model_args.model_name_or_path or str(_embedded(embedded).path())


def resolve_model_path(model_args: ModelConfig, embedded: str = "tiny") -> tuple[str, float]:
    """The model to start the stream from: ``model_name_or_path`` as given (checked, see ``check_model_source``), or
    the embedded model the stream asks for (``EMBEDDED_MODELS``: the random-weight tiny VLM, or the reasoning
    testbed's pretrained π₀), built once.

    Returns:
        (path_or_id, build_seconds) where ``build_seconds`` is the one-time offline build time (0.0 when cached).
    """
    if model_args.model_name_or_path:
        check_model_source(model_args.model_name_or_path, model_args)
        return model_args.model_name_or_path, 0.0
    path, seconds = _embedded(embedded).ensure()
    return str(path), seconds


def _dtype(model_args: ModelConfig):
    dtype = model_args.dtype or "float32"
    return dtype if dtype == "auto" else getattr(torch, dtype)


def model_config(path_or_id: str, model_args: ModelConfig | None = None):
    """The checkpoint's config alone (``config.json``): cheap, so the policy's kind is known before anything loads."""
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(str(path_or_id), revision=getattr(model_args, "model_revision", None),
                                      trust_remote_code=getattr(model_args, "trust_remote_code", False))


def is_text_only(config) -> bool:
    """Whether a config is a causal LM with no vision part: its type is in transformers' causal-LM mapping and not
    in the image-text-to-text one (Qwen2, Llama; not Idefics3, LLaVA, Qwen2-VL, nor Gemma 3, which is in both). A
    remote-code config is text-only when its ``auto_map`` declares only ``AutoModelForCausalLM``."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING,
        MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING,
    )

    auto_map = getattr(config, "auto_map", None) or {}
    if "AutoModelForImageTextToText" in auto_map or type(config) in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING:
        return False
    return "AutoModelForCausalLM" in auto_map or type(config) in MODEL_FOR_CAUSAL_LM_MAPPING


def policy_class(path_or_id: str, model_args: ModelConfig | None = None):
    """The auto class a checkpoint loads with: ``AutoModelForCausalLM`` for a text-only model, else
    ``AutoModelForImageTextToText``."""
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

    return AutoModelForCausalLM if is_text_only(model_config(path_or_id, model_args)) else AutoModelForImageTextToText


def tokenizer_of(processor):
    """The tokenizer of a processor; a text-only model's "processor" is its tokenizer itself."""
    return getattr(processor, "tokenizer", processor)


def load_processor(path_or_id: str, model_args: ModelConfig):
    """The model's processor (tokenizer + image processor), or its tokenizer alone for a text-only model (TRL's
    trainers take either as ``processing_class``); padding on the left for batched generation."""
    from transformers import AutoProcessor, AutoTokenizer

    auto = AutoTokenizer if is_text_only(model_config(path_or_id, model_args)) else AutoProcessor
    try:
        processor = auto.from_pretrained(
            path_or_id,
            revision=model_args.model_revision,
            trust_remote_code=getattr(model_args, "trust_remote_code", False),
        )
    except ImportError as err:
        from rdbcl.models.image_only_processor import image_only_processor

        processor = image_only_processor(path_or_id, model_config(path_or_id, model_args), model_args)
        if processor is None:
            raise ImportError(f"Could not build the processor of {path_or_id!r}: {err}. Video processors of some "
                              "models need torchvision; install a torchvision matching your torch.") from err
        warnings.warn(f"{path_or_id}: torchvision is not installed, so {type(processor).__name__}'s video processor "
                      "cannot be built; using its image processor (PIL backend) and tokenizer alone, without video "
                      "input. The policies saved keep the checkpoint's video settings.", stacklevel=2)
    tokenizer_of(processor).padding_side = "left"  # batched generation appends after the prompt
    return processor


def load_policy(path_or_id: str, model_args: ModelConfig):
    """Load the policy in the configured dtype (fp32 on CPU by default): a vision-language model, or a text-only
    causal LM (``policy_class``)."""
    model = policy_class(path_or_id, model_args).from_pretrained(
        path_or_id,
        revision=model_args.model_revision,
        dtype=_dtype(model_args),
        attn_implementation=model_args.attn_implementation,
        trust_remote_code=getattr(model_args, "trust_remote_code", False),
    )
    return model


def save_policy(model, processor, path: Path) -> None:
    """Save model and processor (or tokenizer) so the directory loads like any hub model (and serves as the next
    anchor).

    Written to a temporary directory first and renamed, so an interrupted save never leaves a half-written policy.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    processor.save_pretrained(tmp)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
