"""Every model family users bring (tests/model_families.py: Qwen2-VL, Qwen2.5-VL, Idefics3 / SmolVLM, LLaVA-1.5,
Gemma 3, each a tiny random checkpoint saved with its stock processor's files) through the real stream loop on
tasks mixing image and text-only rows, by GRPO, RDB-CL (full fine-tuning and LoRA) and seq_ft; the KL anchor of each
family is the previous policy on the same multimodal batch; and Qwen-VL processors load without torchvision."""

from __future__ import annotations

import json
import math
import pickle
import warnings
from pathlib import Path

import pytest
import torch
from anchor_checks import checkpoint_logps, image_inputs, perturbed_checkpoint
from mixed_rows import mixed
from model_families import FAMILIES, QWEN_TEMPLATE
from suite_recipes import EMBEDDED, device_args
from transformers import AutoModelForImageTextToText
from transformers.utils import is_torchvision_available
from trl import ModelConfig, get_peft_config

from rdbcl.methods import TaskContext
from rdbcl.methods.grpo import GRPOMethod
from rdbcl.methods.warm_start import warm_start
from rdbcl.models.generation import per_sample_images, processor_inputs
from rdbcl.models.loading import load_policy, load_processor
from rdbcl.run.loop import StreamRunner
from rdbcl.train import parse_args
from task_streams import TaskStream


# the family's model class and stock processor class, as its config.json and processor files name them
CLASSES = {
    "qwen2_vl": ("Qwen2VLForConditionalGeneration", "Qwen2VLProcessor"),
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration", "Qwen2_5_VLProcessor"),
    "idefics3": ("Idefics3ForConditionalGeneration", "Idefics3Processor"),
    "llava": ("LlavaForConditionalGeneration", "LlavaProcessor"),
    "gemma3": ("Gemma3ForConditionalGeneration", "Gemma3Processor"),
}
NEEDS_TORCHVISION = {"qwen2_vl", "qwen2_5_vl"}  # stock processors that build a video processor
EVAL_ROWS = {"colour": 8, "digit_0_4": 8}
BETA = ["--beta_min", "0.01", "--beta_max", "0.1"]
LORA = ["--use_peft", "true", "--lora_r", "8", "--lora_target_modules", "q_proj", "v_proj"]
METHODS = {"grpo": ["--method", "grpo"], "rdbcl": ["--method", "rdbcl", *BETA],
           "rdbcl-lora": ["--method", "rdbcl", *BETA, *LORA], "seq_ft": ["--method", "seq_ft"]}
assert set(CLASSES) == set(FAMILIES)


@pytest.fixture(scope="module")
def mixed_stream(two_task_stream) -> TaskStream:
    """colour → digit_0_4, 4 training rows (2 with an image) and 8 eval rows (4 with an image) per task."""
    return TaskStream("mixed", [mixed(t, 4) for t in two_task_stream.tasks])


def _quiet_load_processor(path: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the no-torchvision fallback's notice (tested below)
        return load_processor(path, ModelConfig())


# ------------------------------------------------------------------------------------------------- mixed batches
@pytest.mark.filterwarnings("ignore:.*torchvision is not installed")
@pytest.mark.parametrize("family", FAMILIES)
def test_a_row_of_a_mixed_batch_gets_its_logits_alone_and_its_own_image(model_family, mixed_stream, family):
    path = model_family(family)
    processor, model = _quiet_load_processor(path), load_policy(path, ModelConfig()).eval()
    rows = mixed_stream.tasks[0].eval[:4]  # image, text, image, text
    texts = [processor.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in rows["prompt"]]
    images = per_sample_images(rows["image"], 4)
    with torch.no_grad():
        together = model(**processor_inputs(processor, texts, images)).logits[:, -1]  # left-padded together
        alone = [model(**processor_inputs(processor, [text], [image])).logits[0, -1]
                 for text, image in zip(texts, images, strict=True)]
        other_image = model(**processor_inputs(processor, texts[:1], images[2:3])).logits[0, -1]
    torch.testing.assert_close(together, torch.stack(alone), atol=1e-4, rtol=1e-4)
    assert (alone[0] - other_image).abs().max() > 1e-4  # row 0's logits depend on its image


# ---------------------------------------------------------------------------------------------------- end to end
@pytest.mark.filterwarnings("ignore:.*torchvision is not installed")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("family", FAMILIES)
def test_family_trains_and_evaluates_a_stream_of_mixed_tasks(tmp_path, model_family, mixed_stream, family, method):
    path = model_family(family)
    argv = [*EMBEDDED, "--model_name_or_path", path, *METHODS[method], "--max_steps", "2", "--warm_start_steps", "0",
            "--per_device_train_batch_size", "8", "--num_generations", "2", "--max_completion_length", "4",
            "--eval_batch_size", "8", "--eval_max_new_tokens", "4", "--learning_rate", "0.001", "--logging_steps",
            "1", "--output_dir", str(tmp_path / "run"), *device_args()]  # RDBCL_TEST_DEVICE=cuda: bf16 on the GPU
    stream_args, args, model_args = parse_args(argv)
    results = StreamRunner(stream_args, args, model_args, stream=mixed_stream).run()

    acc = results["acc"]
    assert results["complete"] and len(results["zero_shot"]) == 2 and results["eval_rows"] == EVAL_ROWS
    assert [len(row) for row in acc] == [2, 2] and all(0.0 <= x <= 100.0 for row in acc + [results["zero_shot"]]
                                                        for x in row)
    model_class, processor_class = CLASSES[family]
    base = torch.nn.utils.parameters_to_vector(AutoModelForImageTextToText.from_pretrained(path).parameters())
    for k, task in enumerate(results["tasks"]):
        logged = [e for e in task["train_log"] if "loss" in e]
        assert len(logged) == 2, task["name"]  # every step trained on a batch mixing image and text-only rows
        assert all(math.isfinite(v) for e in logged for v in e.values() if isinstance(v, float)), task["name"]
        if method.startswith("rdbcl"):
            summary = task["rdbcl"]["mean_over_steps"]
            assert args.beta_min - 1e-9 <= summary["rdbcl/beta/mean"] <= args.beta_max + 1e-9
            assert 0.0 <= summary["rdbcl/rp/mean"] <= 1.0
        policy_dir = tmp_path / "run" / "policies" / f"task{k}-{task['name']}"
        policy = AutoModelForImageTextToText.from_pretrained(policy_dir)  # π_k, the next task's anchor
        assert type(policy).__name__ == model_class and not (policy_dir / "adapter_config.json").exists()
        assert type(_quiet_load_processor(str(policy_dir))).__name__ == processor_class
        if k == 0 and method == "seq_ft":  # SFT moved it (GRPO's rewards are all 0 on a random model: no gradient)
            assert not torch.equal(torch.nn.utils.parameters_to_vector(policy.parameters()), base)


# ------------------------------------------------------------------------------------------------------- anchor
@pytest.mark.filterwarnings("ignore:.*torchvision is not installed")
@pytest.mark.parametrize("family", FAMILIES)
def test_anchor_logps_equal_previous_checkpoint(tmp_path, model_family, two_task_stream, family):
    """As tests/rdbcl/test_anchor.py for the embedded model: TRL's reference log-probs inside GRPO, on a batch of
    image rows, are those of the saved π_{k−1}, while the policy trained from π_{k−1}'s weights has moved."""
    path = model_family(family)
    _, args, model_args = parse_args([
        *EMBEDDED, "--model_name_or_path", path, "--max_steps", "1", "--warm_start_steps", "3",
        "--warm_start_learning_rate", "0.01", "--warm_start_batch_size", "4", "--per_device_train_batch_size", "4",
        "--num_generations", "2", "--max_completion_length", "4", "--output_dir", str(tmp_path / "run")])
    processor = _quiet_load_processor(path)
    previous, anchor_path = perturbed_checkpoint(path, model_args, processor, tmp_path)

    task = two_task_stream.tasks[1]
    policy = load_policy(path, model_args)  # loaded from π_0's path, carrying π_{k−1}'s weights, as in the loop
    policy.load_state_dict(previous.state_dict())
    ctx = TaskContext(index=1, task=task, stream=two_task_stream, policy=policy, anchor_path=anchor_path,
                      processor=processor, args=args, peft_config=get_peft_config(model_args),
                      output_dir=tmp_path / "run" / "task1")
    warm_start(ctx)  # the policy now differs from π_{k−1}; the anchor must not follow it
    trainer = GRPOMethod().build_trainer(ctx)
    trainer.model.train()
    out = trainer._generate_and_score_completions([task.train[i] for i in range(2) for _ in range(2)])
    assert "pixel_values" in out

    mask = out["completion_mask"].bool()
    expected, blind = checkpoint_logps(anchor_path, ModelConfig(), out)
    torch.testing.assert_close(out["ref_per_token_logps"][mask], expected[mask], atol=1e-4, rtol=1e-4)
    assert (blind[mask] - expected[mask]).abs().max() > 1e-4  # the image reaches the anchor
    policy_logps, *_ = trainer._get_per_token_logps_and_entropies(
        trainer.model, torch.cat([out["prompt_ids"], out["completion_ids"]], 1),
        torch.cat([out["prompt_mask"], out["completion_mask"]], 1), out["completion_ids"].shape[1],
        **image_inputs(out, "num_images"))
    assert (policy_logps.detach()[mask] - expected[mask]).abs().max() > 1e-4


# -------------------------------------------------------------------------------------- no-torchvision fallback
@pytest.mark.skipif(is_torchvision_available(), reason="torchvision is installed: the stock processor loads")
@pytest.mark.parametrize("family", sorted(NEEDS_TORCHVISION))
def test_qwen_vl_processor_loads_image_only_without_torchvision_and_saves_the_stock_files(tmp_path, model_family,
                                                                                         family):
    from transformers import AutoProcessor

    path = model_family(family)
    with pytest.raises(ImportError, match="Qwen2VLVideoProcessor requires the Torchvision"):
        AutoProcessor.from_pretrained(path)  # the stock loader
    with pytest.warns(UserWarning, match="torchvision is not installed.*image processor \\(PIL backend\\)"):
        processor = load_processor(path, ModelConfig())
    _, processor_class = CLASSES[family]
    assert type(processor).__name__ == processor_class and not hasattr(processor, "video_processor")
    assert type(processor.image_processor).__name__ == "Qwen2VLImageProcessorPil"
    assert processor.image_processor.size == {"longest_edge": 56 * 56, "shortest_edge": 28 * 28}  # not the defaults
    assert processor.chat_template == QWEN_TEMPLATE  # from chat_template.jinja / chat_template.json
    assert processor.tokenizer.padding_side == "left"
    assert pickle.loads(pickle.dumps(processor)).to_dict() == processor.to_dict()  # e.g. for spawned workers

    processor.save_pretrained(tmp_path / "saved")
    saved = json.loads((tmp_path / "saved" / "processor_config.json").read_text())
    assert saved["processor_class"] == processor_class
    assert saved["image_processor"]["image_processor_type"] == "Qwen2VLImageProcessor"  # the stock backend's name
    # the checkpoint's video settings as the stock loader reads them: where torchvision is installed the stock
    # class builds its video processor from them, as from the original checkpoint
    original = json.loads((Path(path) / ("processor_config.json" if family == "qwen2_vl"
                                         else "preprocessor_config.json")).read_text())
    assert saved["video_processor"] == original.get("video_processor", original)
    with pytest.raises(ImportError, match="Qwen2VLVideoProcessor requires the Torchvision"):
        AutoProcessor.from_pretrained(tmp_path / "saved")  # the stock loader gets as far as on the original
    assert (tmp_path / "saved" / "chat_template.jinja").read_text() == processor.chat_template
    assert json.loads((tmp_path / "saved" / "tokenizer_config.json").read_text())["processor_class"] == \
        processor_class
