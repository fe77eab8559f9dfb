"""The KL anchor of task k is the saved policy of task k−1, and it sees the same multimodal inputs as the policy."""

import pytest
import torch
from anchor_checks import checkpoint_logps, image_inputs, perturbed_checkpoint
from suite_recipes import EMBEDDED

from rdbcl.methods import TaskContext
from rdbcl.methods.grpo import GRPOMethod
from rdbcl.methods.warm_start import warm_start
from rdbcl.models.loading import load_policy, load_processor
from rdbcl.train import parse_args


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
    previous, anchor_path = perturbed_checkpoint(tiny_model_path, model_args, processor, tmp_path)
    task = two_task_stream.tasks[1]
    # As in the stream loop, the policy in memory carries π_{k−1}'s weights but was loaded from another path (π_0).
    policy = load_policy(tiny_model_path, model_args)
    policy.load_state_dict(previous.state_dict())
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
    expected, blind = checkpoint_logps(anchor_path, model_args, out)
    torch.testing.assert_close(ref[mask], expected[mask], atol=1e-4, rtol=1e-4)
    assert (blind[mask] - expected[mask]).abs().max() > 1e-3  # the image changes the anchor's log-probs

    # and the policy being trained is not the anchor (otherwise the test above would prove nothing)
    policy_logps, *_ = trainer._get_per_token_logps_and_entropies(
        trainer.model, torch.cat([out["prompt_ids"], out["completion_ids"]], 1),
        torch.cat([out["prompt_mask"], out["completion_mask"]], 1), out["completion_ids"].shape[1],
        **image_inputs(out, "num_images"))
    assert (policy_logps.detach()[mask] - expected[mask]).abs().max() > 1e-3
