"""Generation from a policy for a batch of conversational prompts, each with its image(s) or none: the one path
that evaluation, RDB-CL's prefix continuations and the portability diagnostic all generate through."""

from __future__ import annotations

import torch

from rdbcl.models.loading import tokenizer_of
from task_streams.base import images_of


def per_sample_images(images: list | None, n: int) -> list[list]:
    """One image list per sample, empty for a text-only row (``None``): the layout TRL's trainers hand a processor,
    so that evaluation batches mix image and text-only rows as training batches do."""
    return [images_of(image) for image in ([None] * n if images is None else images)]


def processor_inputs(processor, texts: list[str], image_lists: list[list]):
    """The processor's batch for ``texts`` (chat-rendered prompts) with their per-sample image lists.

    A batch without any image passes none (text-only batches, reasoning streams): a text-only model's tokenizer
    takes that call as a processor does. A mixed batch needs a processor that pads samples to a common image count
    (Idefics3 / SmolVLM: ``do_pad``, their default) or flattens the lists (Qwen2-VL, LLaVA); one that stacks them
    fails deep inside, so that failure is re-raised with the remedy.
    """
    if not any(image_lists):
        return processor(text=texts, padding=True, return_tensors="pt")
    try:
        return processor(text=texts, images=image_lists, padding=True, return_tensors="pt")
    except (ValueError, TypeError) as err:
        if all(image_lists):
            raise
        raise ValueError(
            f"The processor ({type(processor).__name__}) could not take a batch mixing image and text-only rows "
            f"({err}). Idefics3 / SmolVLM processors need image padding: set `\"do_pad\": true` under "
            "`image_processor` in the model's processor_config.json (the stock checkpoints' default).") from err


@torch.no_grad()
def generate_answers(model, processor, prompts: list, images: list, max_new_tokens: int, num_samples: int = 0,
                     temperature: float = 1.0, return_ids: bool = False,
                     prefixes: list[str] | None = None) -> list[str] | tuple[list[str], list]:
    """Completions for one batch of conversational prompts, each with its image(s) or none (``None``, ``[]``).

    Greedy with ``num_samples=0``; otherwise ``num_samples`` sampled completions per prompt, prompt-major. With
    ``return_ids`` also the completions' token ids (padding removed), as TRL hands them to rewards. ``prefixes``:
    text each completion starts with (after the generation prompt); only the continuation is returned.
    """
    texts = [processor.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
    if prefixes is not None:
        texts = [text + prefix for text, prefix in zip(texts, prefixes, strict=True)]
    inputs = processor_inputs(processor, texts, per_sample_images(images, len(texts))).to(model.device)
    tokenizer = tokenizer_of(processor)
    sampling = {"do_sample": False} if num_samples == 0 else {
        "do_sample": True, "temperature": temperature, "num_return_sequences": num_samples, "top_k": 0}
    out = model.generate(**inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, **sampling)
    new_tokens = out[:, inputs["input_ids"].shape[1]:]
    texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    if not return_ids:
        return texts
    return texts, [row[row != tokenizer.pad_token_id].tolist() for row in new_tokens]
