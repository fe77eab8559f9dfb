"""Tiny random checkpoints of the model families users bring, built offline from transformers' config classes and
saved to disk as each family's stock processor saves them (its processor class, image-processor settings, special
tokens and chat template), so the suite loads them through ``rdbcl.models.loading`` like hub checkpoints.

Each builder writes one family into a directory and returns it; ``tests/conftest.py`` caches them per test session
(``model_family``). Dimensions are a few layers, hidden size ≤ 64, a byte-level vocabulary of a few hundred words
(``rdbcl.models.tiny_vlm.chat_tokenizer``) and 32–56 px images, so a GRPO step takes well under a second on CPU.

Qwen2-VL and Qwen2.5-VL cannot be built with their stock processors without torchvision (their video processors need
it), so their processor files are written as the stock processors write them: Qwen2-VL in transformers 5's layout
(``processor_config.json`` nesting the image and video processors, ``chat_template.jinja``), Qwen2.5-VL in the
layout of the hub's Qwen2.5-VL checkpoints (``preprocessor_config.json``, ``chat_template.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rdbcl.models.tiny_vlm import chat_tokenizer, tokenizer_corpus


VOCAB = 400
QWEN_TEMPLATE = (  # Qwen2-VL / Qwen2.5-VL-Instruct's chat template
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: "
    "{% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: "
    "{% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}"
    "{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
SMOLVLM_TEMPLATE = (  # SmolVLM-Instruct's (Idefics3)
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")
LLAVA_TEMPLATE = (  # llava-1.5-hf's: images first, then the text; the system text without a role
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}"
    "{% endfor %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")
GEMMA3_TEMPLATE = (  # gemma-3-it's: the system text opens the first user turn; an image part is <start_of_image>
    "{{ bos_token }}{%- if messages[0]['role'] == 'system' -%}{%- if messages[0]['content'] is string -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}{%- else -%}"
    "{%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}{%- endif -%}"
    "{%- set loop_messages = messages[1:] -%}{%- else -%}{%- set first_user_prefix = \"\" -%}"
    "{%- set loop_messages = messages -%}{%- endif -%}{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'assistant') -%}{%- set role = \"model\" -%}{%- else -%}"
    "{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else \"\") }}"
    "{%- if message['content'] is string -%}{{ message['content'] | trim }}{%- else -%}"
    "{%- for item in message['content'] -%}{%- if item['type'] == 'image' -%}{{ '<start_of_image>' }}"
    "{%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}{%- endfor -%}{%- endif -%}"
    "{{ '<end_of_turn>\n' }}{%- endfor -%}{%- if add_generation_prompt -%}{{'<start_of_turn>model\n'}}{%- endif -%}")


def _tokenizer(path: Path, special: list[str], template: str, markup: list[str], **named: str):
    """``chat_tokenizer`` on the embedded stream's texts in the family's markup, with the family's special tokens,
    saved to ``path`` and reloaded with its named tokens (``eos_token``, Gemma 3's ``boi_token``, …) as the family's
    tokenizer_config.json declares them."""
    from transformers import AutoTokenizer

    tokenizer = chat_tokenizer(VOCAB, tokenizer_corpus() + markup * 4)
    tokenizer.add_special_tokens({"additional_special_tokens": special}, replace_extra_special_tokens=False)
    tokenizer.chat_template = template
    tokenizer.save_pretrained(path)
    return AutoTokenizer.from_pretrained(path, **named)


def _text(tokenizer, **extra) -> dict:
    return dict(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                bos_token_id=tokenizer.bos_token_id, **extra)


def _save(model, tokenizer, path: Path, processor=None) -> Path:
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.save_pretrained(path)
    (processor or tokenizer).save_pretrained(path)
    return path


# --------------------------------------------------------------------------------------------------- Qwen-VL
QWEN_TOKENS = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
# Qwen2VLVideoProcessor's settings as its to_dict() writes them (class defaults, sizes as the images'); built here
# it would need torchvision
QWEN_VIDEO_PROCESSOR = {
    "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True, "do_sample_frames": False,
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
    "max_frames": 768, "merge_size": 2, "min_frames": 4, "patch_size": 14, "resample": 3,
    "rescale_factor": 0.00392156862745098, "size": {"longest_edge": 3136, "shortest_edge": 784},
    "temporal_patch_size": 2, "video_processor_type": "Qwen2VLVideoProcessor"}
QWEN_PIXELS = {"min_pixels": 28 * 28, "max_pixels": 56 * 56}  # a 64 px image → 56 × 56 → 4 × 4 patches → 4 tokens


def _qwen(path: Path, qwen2_5: bool) -> Path:
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tokenizer = _tokenizer(path, QWEN_TOKENS, QWEN_TEMPLATE, ["<|im_start|>system\nYou are a helpful assistant."])
    start, end, image, video = (tokenizer.convert_tokens_to_ids(t) for t in QWEN_TOKENS)
    text = _text(tokenizer, rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                             "mrope_section": [2, 2, 4]})
    torch.manual_seed(0)
    if qwen2_5:
        config = Qwen2_5_VLConfig(text_config=text, vision_config=dict(
            depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, window_size=28,
            fullatt_block_indexes=[1]), image_token_id=image, video_token_id=video, vision_start_token_id=start,
            vision_end_token_id=end)
        model = Qwen2_5_VLForConditionalGeneration(config)
    else:
        config = Qwen2VLConfig(text_config=text, vision_config=dict(depth=2, embed_dim=32, hidden_size=64,
                                                                    num_heads=2), image_token_id=image,
                               video_token_id=video, vision_start_token_id=start, vision_end_token_id=end)
        model = Qwen2VLForConditionalGeneration(config)
    _save(model, tokenizer, path)
    image_processor = Qwen2VLImageProcessorPil(**QWEN_PIXELS).to_dict()
    if qwen2_5:  # the hub checkpoints' layout: a flat image-processor file, the template in chat_template.json
        (path / "chat_template.jinja").unlink()
        (path / "chat_template.json").write_text(json.dumps({"chat_template": QWEN_TEMPLATE}))
        (path / "preprocessor_config.json").write_text(json.dumps(
            {**image_processor, **QWEN_PIXELS, "processor_class": "Qwen2_5_VLProcessor"}, indent=2))
    else:  # transformers 5's save_pretrained: one processor_config.json nesting every sub-processor
        (path / "processor_config.json").write_text(json.dumps(
            {"image_processor": image_processor, "video_processor": QWEN_VIDEO_PROCESSOR,
             "processor_class": "Qwen2VLProcessor"}, indent=2))
    return path


def qwen2_vl(path: Path) -> Path:
    return _qwen(path, qwen2_5=False)


def qwen2_5_vl(path: Path) -> Path:
    return _qwen(path, qwen2_5=True)


# --------------------------------------------------------------------------------------------- Idefics3 / SmolVLM
def idefics3(path: Path) -> Path:
    """SmolVLM's stock processor: image splitting into 32 px tiles plus the global image (a 64 px image becomes
    2 × 2 tiles + 1, each ``<fake_token_around_image><row_i_col_j>`` or ``<global-img>`` and 4 ``<image>`` tokens),
    batches padded to a common image count (``do_pad``), end of turn ``<end_of_utterance>``."""
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    tokenizer = _tokenizer(path, [], SMOLVLM_TEMPLATE, ["User:", "Assistant:", "System: "],
                           eos_token="<end_of_utterance>")
    processor = Idefics3Processor(
        image_processor=Idefics3ImageProcessorPil(do_image_splitting=True, size={"longest_edge": 64},
                                                  max_image_size={"longest_edge": 32}),
        tokenizer=tokenizer, image_seq_len=4, chat_template=SMOLVLM_TEMPLATE)
    torch.manual_seed(0)
    model = Idefics3ForConditionalGeneration(Idefics3Config(
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"), scale_factor=2,
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=32, patch_size=8),
        text_config=dict(model_type="llama", **_text(tokenizer))))
    return _save(model, tokenizer, path, processor)


# ------------------------------------------------------------------------------------------------------ LLaVA-1.5
def llava(path: Path) -> Path:
    """LLaVA-1.5: CLIP vision tower (second-to-last layer, CLS dropped), ``<image>`` expanded to 16 tokens."""
    from transformers import LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    tokenizer = _tokenizer(path, ["<s>", "</s>"], LLAVA_TEMPLATE, ["USER: ", "ASSISTANT:"], bos_token="<s>",
                           eos_token="</s>")
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=tokenizer, patch_size=8, vision_feature_select_strategy="default", image_token="<image>",
        num_additional_image_tokens=1, chat_template=LLAVA_TEMPLATE)
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=32, patch_size=8, projection_dim=32),
        text_config=dict(model_type="llama", **_text(tokenizer)),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"), vision_feature_select_strategy="default",
        vision_feature_layer=-2))
    return _save(model, tokenizer, path, processor)


# --------------------------------------------------------------------------------------------------------- Gemma 3
GEMMA3_TOKENS = ["<bos>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>",
                 "<image_soft_token>"]


def gemma3(path: Path) -> Path:
    """Gemma 3: SigLIP vision tower, 16 patches average-pooled to 4 image soft tokens between ``<start_of_image>``
    and ``<end_of_image>``; the processor marks them in ``token_type_ids`` (bidirectional attention over an image)."""
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3Processor
    from transformers.models.gemma3.image_processing_pil_gemma3 import Gemma3ImageProcessorPil

    tokenizer = _tokenizer(path, GEMMA3_TOKENS, GEMMA3_TEMPLATE, ["<start_of_turn>user\n", "<start_of_turn>model\n"],
                           bos_token="<bos>", eos_token="<end_of_turn>", boi_token="<start_of_image>",
                           eoi_token="<end_of_image>", image_token="<image_soft_token>")
    processor = Gemma3Processor(image_processor=Gemma3ImageProcessorPil(size={"height": 32, "width": 32}),
                                tokenizer=tokenizer, chat_template=GEMMA3_TEMPLATE, image_seq_length=4)
    torch.manual_seed(0)
    model = Gemma3ForConditionalGeneration(Gemma3Config(
        text_config=_text(tokenizer, head_dim=16, sliding_window=64, query_pre_attn_scalar=16),
        vision_config=dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64,
                           num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8),
        mm_tokens_per_image=4, boi_token_index=tokenizer.boi_token_id, eoi_token_index=tokenizer.eoi_token_id,
        image_token_index=tokenizer.image_token_id))
    with torch.no_grad():  # initialised to zeros, which would hide every image from the random model
        model.model.multi_modal_projector.mm_input_projection_weight.normal_(std=0.02)
    return _save(model, tokenizer, path, processor)


# --------------------------------------------------------------------------------------------- text-only Qwen2
# As many language models' templates (Qwen2.5's): a message's content is one string; a list of parts fails to render.
STRING_ONLY_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def text_qwen2(path: Path, corpus: list[str]) -> Path:
    """A tiny random Qwen2 causal LM and its tokenizer (trained on ``corpus``, with a chat template that takes
    string contents only), saved like a hub model."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = chat_tokenizer(vocab_size=VOCAB, corpus=corpus)
    tokenizer.chat_template = STRING_ONLY_TEMPLATE
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                         tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model = Qwen2ForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


# The multimodal families, by the id tests name them with; each builder writes a checkpoint into an empty directory.
FAMILIES = {"qwen2_vl": qwen2_vl, "qwen2_5_vl": qwen2_5_vl, "idefics3": idefics3, "llava": llava, "gemma3": gemma3}
