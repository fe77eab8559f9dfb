"""RDBCLTrainer against stock TRL: exact equality with constant β, per-sample application, β = 0 is plain GRPO."""

import copy

import pytest
import torch
from suite_recipes import EMBEDDED
from trl import GRPOTrainer, get_peft_config

import reward_fns
from rdbcl.methods import TaskContext
from rdbcl.methods.rdbcl import RDBCLMethod
from rdbcl.models.loading import load_policy, load_processor
from rdbcl.train import parse_args


LORA = ["--use_peft", "true", "--lora_r", "8", "--lora_dropout", "0", "--lora_target_modules", "q_proj", "v_proj"]


def _setup(tmp_path, tiny_model_path, stream, *extra):
    _, args, model_args = parse_args([
        *EMBEDDED, "--method", "rdbcl", "--max_steps", "1", "--per_device_train_batch_size", "8",
        "--num_generations", "4",
        "--max_completion_length", "6", "--output_dir", str(tmp_path / "run"), *extra,
    ])
    processor = load_processor(tiny_model_path, model_args)
    task = stream.tasks[0]
    ctx = TaskContext(index=0, task=task, stream=stream, policy=load_policy(tiny_model_path, model_args),
                      anchor_path=tiny_model_path, processor=processor, args=args,
                      peft_config=get_peft_config(model_args), output_dir=tmp_path / "run" / "task0")
    trainer = RDBCLMethod().build_trainer(ctx)
    stock_args = copy.copy(trainer.args)
    rewards = [reward_fns.RewardSpec.parse(r).function() for r in task.rewards]
    stock = GRPOTrainer(model=load_policy(tiny_model_path, model_args), reward_funcs=rewards, args=stock_args,
                        train_dataset=task.train, processing_class=processor, peft_config=get_peft_config(model_args))
    # Move the policy away from the anchor (else the KL is 0), identically in both trainers: LoRA B (zero at
    # init) or every weight.
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in trainer.model.named_parameters():
            if p.requires_grad and ("lora_B" in name or get_peft_config(model_args) is None):
                p.add_(0.02 * torch.randn_like(p))
    stock.model.load_state_dict(trainer.model.state_dict())
    for t in (trainer, stock):
        t.current_gradient_accumulation_steps = 1
        t.model.train()
    rows = [task.train[i] for i in range(2) for _ in range(args.num_generations)]
    out = trainer._generate_and_score_completions(rows)
    out["advantages"] = torch.linspace(-1.0, 1.0, len(rows))  # the random model's rewards are all 0
    return trainer, stock, out


def _loss_and_grads(trainer, inputs):
    trainer.model.zero_grad()
    loss = trainer._compute_loss(trainer.model, inputs)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize("loss_type", ["dapo", "grpo"])
@pytest.mark.parametrize("peft", [False, True], ids=["full", "lora"])
def test_constant_schedule_equals_stock_grpo(tmp_path, tiny_model_path, two_task_stream, loss_type, peft):
    extra = ["--beta_schedule", "constant", "--beta_max", "0.1", "--loss_type", loss_type, *(LORA if peft else [])]
    trainer, stock, out = _setup(tmp_path, tiny_model_path, two_task_stream, *extra)
    assert stock.beta == trainer.beta == 0.1
    assert torch.equal(out["rdbcl_beta"], torch.full_like(out["rdbcl_beta"], 0.1))

    loss, grads = _loss_and_grads(trainer, out)
    stock_loss, stock_grads = _loss_and_grads(stock, out)
    torch.testing.assert_close(loss, stock_loss, rtol=1e-6, atol=1e-7)
    assert grads.keys() == stock_grads.keys() and len(grads) > 0
    for name in grads:
        torch.testing.assert_close(grads[name], stock_grads[name], rtol=1e-5, atol=1e-7, msg=name)
    # the KL term is really in play: a different β changes the loss
    beta0 = dict(out, rdbcl_beta=torch.zeros_like(out["rdbcl_beta"]))
    assert not torch.isclose(trainer._compute_loss(trainer.model, beta0), loss)


def test_each_sample_gets_its_own_beta(tmp_path, tiny_model_path, two_task_stream):
    """The loss is linear in β with one coefficient per sample: L(β) = L(0) + Σ_i β_i (L(e_i) − L(0))."""
    trainer, _, out = _setup(tmp_path, tiny_model_path, two_task_stream, "--beta_max", "0.1")
    n = out["rdbcl_beta"].numel()

    def loss_with(beta):
        with torch.no_grad():
            return trainer._compute_loss(trainer.model, dict(out, rdbcl_beta=beta)).double()

    zero = loss_with(torch.zeros(n))
    coef = torch.stack([loss_with(torch.eye(n)[i]) - zero for i in range(n)])
    assert (coef > 0).all()  # every sample contributes its own (positive) KL ...
    assert coef.std() > 0.05 * coef.mean()  # ... of its own size: a batch-wide β could not reproduce this
    beta = torch.linspace(0.0, 0.2, n)
    torch.testing.assert_close(loss_with(beta), zero + (beta.double() * coef).sum(), rtol=1e-4, atol=1e-7)


def test_rp_and_beta_are_computed_and_logged(tmp_path, tiny_model_path, two_task_stream):
    trainer, _, out = _setup(tmp_path, tiny_model_path, two_task_stream, "--beta_min", "0.01", "--beta_max", "0.1")
    beta = out["rdbcl_beta"]
    assert beta.shape == (8,) and ((beta >= 0.01) & (beta <= 0.1)).all()
    assert torch.equal(beta.view(2, 4), beta.view(2, 4)[:, :1].expand(2, 4))  # one β per prompt
    for key in ("rdbcl/rp/mean", "rdbcl/beta/mean", "rdbcl/beta/max", "rdbcl/rp/center"):
        assert len(trainer._metrics["train"][key]) == 1
    assert len(trainer.rp_history) == 1 and len(trainer.rp_history[0]["rp_values"]) == 2


def test_zero_beta_range_is_plain_grpo(tmp_path, tiny_model_path, two_task_stream):
    trainer, stock, out = _setup(tmp_path, tiny_model_path, two_task_stream, "--beta_min", "0", "--beta_max", "0")
    assert trainer.beta == 0.0 and trainer.ref_model is None
    assert "ref_per_token_logps" not in out and "rdbcl_beta" not in out
    stock.beta = 0.0
    torch.testing.assert_close(_loss_and_grads(trainer, out)[0], _loss_and_grads(stock, out)[0])


@pytest.mark.parametrize("peft", [False, True], ids=["full", "lora"])
def test_anchor_pass_rate_samples_the_anchor_once_per_prompt(tmp_path, tiny_model_path, two_task_stream,
                                                             monkeypatch, peft):
    import rdbcl.models.generation

    calls = []
    rows = [two_task_stream.tasks[0].train[i] for i in range(2)]
    right = {0: 1, 1: 4}  # the anchor gets 1 of 4 samples right on prompt 0, all 4 on prompt 1

    def fake_generate(model, processor, prompts, images, max_new_tokens, num_samples=0, temperature=1.0, **_):
        lora_layers = [m for m in model.modules() if hasattr(m, "lora_A")]
        calls.append({"model": model, "n": len(prompts), "k": num_samples,
                      "adapters_off": all(m.disable_adapters for m in lora_layers) if lora_layers else None})
        return [f"<answer>{rows[j]['answer'] if s < right[j] else 'none'}</answer>"
                for j in range(len(prompts)) for s in range(num_samples)]

    monkeypatch.setattr(rdbcl.models.generation, "generate_answers", fake_generate)
    extra = ["--rp_estimator", "anchor_pass_rate", "--rp_anchor_rollouts", "4", *(LORA if peft else [])]
    trainer, _, out = _setup(tmp_path, tiny_model_path, two_task_stream, *extra)
    assert len(calls) == 1 and calls[0]["n"] == 2 and calls[0]["k"] == 4  # 8 rows, 2 distinct prompts
    if peft:
        assert calls[0]["model"] is trainer.model and calls[0]["adapters_off"] is True
    else:
        assert calls[0]["model"] is trainer.ref_model
    assert trainer.rp_history[0]["rp_values"] == pytest.approx([0.25, 1.0])
    trainer._generate_and_score_completions([r for r in rows for _ in range(4)])
    assert len(calls) == 1  # cached: the same prompts are not sampled again
