"""The embedded demo model: a small Idefics3 (SmolVLM-style) vision-language model built offline.

No hub is needed. The tokenizer is a byte-level BPE (any text encodes) trained with 🤗 ``tokenizers`` on the
embedded stream's texts, with a small vocabulary: on 2 CPU cores the LM head over a 49k-word vocabulary (e.g.
SmolLM2's) costs most of each training step, which would not fit the default run's time budget. The weights are
randomly initialised from a small config. The result is saved once with ``save_pretrained`` into a cache directory
and loaded from there like any hub model afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch


DEFAULT_CACHE = Path(os.environ.get("RDBCL_CACHE", Path.home() / ".cache" / "rdbcl"))

# Renders both plain-string and multimodal (list of parts) message contents, so TRL's conversational prompts with
# `{"type": "image"}` parts become the `<image>` placeholder that Idefics3's processor expands into image tokens.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@dataclass(frozen=True)
class TinyVLMSpec:
    """Dimensions of the embedded model; the defaults train at well under a second per step on 2 CPU cores."""

    image_size: int = 64
    patch_size: int = 8
    scale_factor: int = 2
    vision_hidden: int = 128
    vision_layers: int = 2
    vision_heads: int = 4
    text_hidden: int = 256
    text_layers: int = 4
    text_heads: int = 4
    text_intermediate: int = 1024
    vocab_size: int = 1024
    seed: int = 0

    @property
    def image_seq_len(self) -> int:
        return (self.image_size // self.patch_size) ** 2 // self.scale_factor**2

    def cache_name(self) -> str:
        """Directory name: changes whenever the dimensions, the image processor's settings or the tokenizer's
        training texts change (a cached copy saved with other settings is not reused)."""
        digest = hashlib.sha1(json.dumps([asdict(self), IMAGE_PROCESSOR, tokenizer_corpus()]).encode()).hexdigest()
        return f"tiny-idefics3-{digest[:10]}"


# Idefics3's image processor settings besides the sizes. ``do_pad``, the stock Idefics3 / SmolVLM default, pads every
# sample of a batch to the batch's largest image count with all-zero images, which the model drops before its vision
# encoder: a batch may then mix image and text-only rows (CoIN's ScienceQA has both), as TRL's trainers and the
# evaluation hand them over (one image list per sample, empty for a text-only row). Without it the processor stacks
# the per-sample lists into one array and fails on a mixed batch ("inhomogeneous shape"). Every image is resized to
# the same square, so an all-image batch gets the same pixels, all-ones masks and logits either way.
IMAGE_PROCESSOR = {"do_image_splitting": False, "do_resize": True, "do_pad": True}

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<fake_token_around_image>", "<image>",
                  "<end_of_utterance>", "<global-img>"]


def tokenizer_corpus() -> list[str]:
    """Texts the demo tokenizer is trained on: the stream's prompts, questions and answers, in chat markup."""
    import easy_vqa

    from task_streams.base import SYSTEM_PROMPT
    from task_streams.embedded import DIGIT_QUESTIONS

    questions = sorted(set(easy_vqa.get_train_questions()[0]) | set(DIGIT_QUESTIONS.values()))
    answers = sorted(set(easy_vqa.get_answers())) + [str(d) for d in range(10)]
    lines = [SYSTEM_PROMPT, "system", "user", "assistant"] + questions
    lines += [f"<think>the answer is {a}</think><answer>{a}</answer>" for a in answers]
    return lines * 4


def chat_tokenizer(vocab_size: int, corpus: list[str]):
    """A byte-level BPE tokenizer (any text encodes) trained on ``corpus``, with the chat markup's special tokens,
    ``CHAT_TEMPLATE`` and left padding: the embedded VLM's tokenizer, and that of any other tiny offline model (the
    text-only LM the tests build)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                        unk_token="<|endoftext|>", pad_token="<|im_end|>",
                                        additional_special_tokens=SPECIAL_TOKENS[3:])
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    return tokenizer


def build_tokenizer(spec: TinyVLMSpec, corpus: list[str] | None = None):
    return chat_tokenizer(spec.vocab_size, tokenizer_corpus() if corpus is None else corpus)


def build_processor(spec: TinyVLMSpec, corpus: list[str] | None = None):
    """Idefics3 processor with the image-only PIL backend (no torchvision needed), no image splitting, and batches
    padded to a common image count (``IMAGE_PROCESSOR``); its tokenizer is trained on ``corpus`` (default: the
    embedded stream's texts)."""
    from transformers import Idefics3Processor
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    tokenizer = build_tokenizer(spec, corpus)
    image_processor = Idefics3ImageProcessorPil(
        size={"longest_edge": spec.image_size},
        max_image_size={"longest_edge": spec.image_size},
        **IMAGE_PROCESSOR,
    )
    return Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=spec.image_seq_len,
        chat_template=CHAT_TEMPLATE,
    )


def build_model(spec: TinyVLMSpec, processor):
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration

    tok = processor.tokenizer
    torch.manual_seed(spec.seed)
    config = Idefics3Config(
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        scale_factor=spec.scale_factor,
        tie_word_embeddings=True,
        vision_config={
            "hidden_size": spec.vision_hidden,
            "intermediate_size": 4 * spec.vision_hidden,
            "num_hidden_layers": spec.vision_layers,
            "num_attention_heads": spec.vision_heads,
            "image_size": spec.image_size,
            "patch_size": spec.patch_size,
        },
        text_config={
            "model_type": "llama",
            "vocab_size": len(tok),
            "hidden_size": spec.text_hidden,
            "intermediate_size": spec.text_intermediate,
            "num_hidden_layers": spec.text_layers,
            "num_attention_heads": spec.text_heads,
            "num_key_value_heads": spec.text_heads,
            "max_position_embeddings": 2048,
            "tie_word_embeddings": True,
            "bos_token_id": tok.bos_token_id,
            "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id,
        },
    )
    model = Idefics3ForConditionalGeneration(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = tok.bos_token_id
    return model


def tiny_vlm_path(spec: TinyVLMSpec | None = None, cache_dir: Path | str | None = None) -> Path:
    """Where the embedded model of ``spec`` is cached (built or not)."""
    return Path(cache_dir or DEFAULT_CACHE) / (spec or TinyVLMSpec()).cache_name()


def ensure_tiny_vlm(spec: TinyVLMSpec | None = None, cache_dir: Path | str | None = None) -> tuple[Path, float]:
    """Return the local path of the embedded model, building it on first use.

    Returns:
        (path, build_seconds): ``build_seconds`` is 0.0 when the cached copy was used.
    """
    spec = spec or TinyVLMSpec()
    path = tiny_vlm_path(spec, cache_dir)
    if (path / "config.json").is_file() and (path / "processor_config.json").is_file():
        return path, 0.0
    start = time.perf_counter()
    processor = build_processor(spec)
    model = build_model(spec, processor)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    processor.save_pretrained(tmp)
    tmp.replace(path) if not path.exists() else None
    return path, time.perf_counter() - start
