"""The KL anchor of task k is the saved policy of task k−1, and it sees the same multimodal inputs as the policy."""

from pathlib import Path

import pytest
import torch
from suite_recipes import EMBEDDED

from rdbcl.methods import TaskContext
from rdbcl.methods.grpo import GRPOMethod
from rdbcl.modeling import load_policy, load_processor, save_policy
from rdbcl.train import parse_args
from rdbcl.warm_start import warm_start


def _perturbed_checkpoint(tiny_model_path, tmp_path, model_args, processor) -> Path:
    """A stand-in for π_{k−1}: the tiny model with shifted weights, saved like the loop saves a policy."""
    model = load_policy(tiny_model_path, model_args)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    path = tmp_path / "policies" / "task0-colour"
    save_policy(model, processor, path)
    return path


def _checkpoint_logps(path, model_args, out) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probs of the completions under the checkpoint, with and without the image."""
    model = load_policy(str(path), model_args).eval()
    ids = torch.cat([out["prompt_ids"], out["completion_ids"]], dim=1)
    mask = torch.cat([out["prompt_mask"], out["completion_mask"]], dim=1)
    n = out["completion_ids"].shape[1]
    image_kwargs = {k: out[k] for k in ("pixel_values", "pixel_attention_mask") if k in out}

    def logps(**kwargs):
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask, **kwargs).logits[:, -n - 1:-1]
        return torch.log_softmax(logits.float(), -1).gather(-1, out["completion_ids"].unsqueeze(-1)).squeeze(-1)

    with_image = logps(**image_kwargs)
    # Without the image: the same token ids with the image placeholders replaced by padding.
    image_token = model.config.image_token_id
    blind_ids = ids.masked_fill(ids == image_token, 0)
    with torch.no_grad():
        blind_logits = model(input_ids=blind_ids, attention_mask=mask).logits[:, -n - 1:-1]
    without_image = torch.log_softmax(blind_logits.float(), -1).gather(
        -1, out["completion_ids"].unsqueeze(-1)).squeeze(-1)
    return with_image, without_image


@pytest.mark.parametrize("peft", [False, True], ids=["full", "lora"])
def test_anchor_logps_equal_previous_checkpoint(tmp_path, tiny_model_path, two_task_stream, peft):
    extra = ["--use_peft", "true", "--lora_r", "8", "--lora_target_modules", "q_proj", "v_proj"] if peft else []
    _, args, model_args = parse_args([
        *EMBEDDED, "--max_steps", "1", "--warm_start_steps", "3", "--warm_start_learning_rate", "0.01",
        "--per_device_train_batch_size", "8", "--num_generations", "4", "--max_completion_length", "6",
        "--output_dir", str(tmp_path / "run"), *extra,
    ])
    from trl import get_peft_config

    processor = load_processor(tiny_model_path, model_args)
    anchor_path = _perturbed_checkpoint(tiny_model_path, tmp_path, model_args, processor)
    task = two_task_stream.tasks[1]
    # As in the stream loop, the policy in memory carries π_{k−1}'s weights but was loaded from another path (π_0).
    policy = load_policy(tiny_model_path, model_args)
    policy.load_state_dict(load_policy(str(anchor_path), model_args).state_dict())
    ctx = TaskContext(index=1, task=task, stream=two_task_stream, policy=policy,
                      anchor_path=anchor_path, processor=processor, args=args,
                      peft_config=get_peft_config(model_args), output_dir=tmp_path / "run" / "task1")
    warm_start(ctx)  # the policy now differs from π_{k−1}; the anchor must not follow it
    trainer = GRPOMethod().build_trainer(ctx)

    rows = [task.train[i] for i in range(2) for _ in range(args.num_generations)]
    trainer.model.train()
    out = trainer._generate_and_score_completions(rows)
    assert "pixel_values" in out  # the batch really is multimodal

    ref = out["ref_per_token_logps"]
    mask = out["completion_mask"].bool()
    expected, blind = _checkpoint_logps(anchor_path, model_args, out)
    torch.testing.assert_close(ref[mask], expected[mask], atol=1e-4, rtol=1e-4)
    assert (blind[mask] - expected[mask]).abs().max() > 1e-3  # the image changes the anchor's log-probs

    # and the policy being trained is not the anchor (otherwise the test above would prove nothing)
    policy_logps, *_ = trainer._get_per_token_logps_and_entropies(
        trainer.model, torch.cat([out["prompt_ids"], out["completion_ids"]], 1),
        torch.cat([out["prompt_mask"], out["completion_mask"]], 1), out["completion_ids"].shape[1],
        pixel_values=out["pixel_values"], num_images=out.get("num_images"),
        **({"pixel_attention_mask": out["pixel_attention_mask"]} if "pixel_attention_mask" in out else {}))
    assert (policy_logps.detach()[mask] - expected[mask]).abs().max() > 1e-3
