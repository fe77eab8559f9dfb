"""The SFT baselines' defining mechanisms, with numbers, and all of them end to end on the embedded stream."""

from __future__ import annotations

import json

import pytest
import torch
from datasets import Dataset
from suite_recipes import EMBEDDED

from rdbcl.methods.replay_buffer import ReplayBuffer
from rdbcl.sft.penalties import DistillationPenalty, EWCPenalty, diagonal_fisher


# --------------------------------------------------------------------------------------------------------------- EWC
def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))


def test_ewc_is_zero_at_the_anchor_and_quadratic_in_fisher_weighted_distance():
    model = _model()
    anchor = {n: p.detach().clone() for n, p in model.named_parameters()}
    fisher = {"0.weight": torch.full((2, 3), 2.0), "1.bias": torch.tensor([0.5])}  # other parameters are free
    penalty = EWCPenalty([(anchor, fisher)], weight=10.0)
    assert penalty(model).item() == 0.0
    with torch.no_grad():
        model[0].weight.add_(0.1)
        model[0].bias.add_(5.0)  # no Fisher: moves freely
    assert penalty(model).item() == pytest.approx(0.5 * 10.0 * 2.0 * 6 * 0.1**2)
    with torch.no_grad():
        model[0].weight.add_(0.1)  # twice the distance: four times the penalty
        model[1].bias.sub_(0.2)
    assert penalty(model).item() == pytest.approx(0.5 * 10.0 * (2.0 * 6 * 0.2**2 + 0.5 * 0.2**2))


def test_ewc_sums_one_term_per_task_and_its_gradient_pulls_back():
    model = _model()
    a1 = {n: p.detach().clone() for n, p in model.named_parameters()}
    a2 = {n: p + 1.0 for n, p in a1.items()}
    ones = {n: torch.ones_like(p) for n, p in a1.items()}
    both = EWCPenalty([(a1, ones), (a2, ones)], weight=2.0)
    n_params = sum(p.numel() for p in model.parameters())
    assert both(model).item() == pytest.approx(0.5 * 2.0 * n_params)  # 0 to the first anchor, 1 per weight to the 2nd
    both(model).backward()
    assert all(torch.allclose(p.grad, torch.full_like(p, -2.0)) for p in model.parameters())


def test_diagonal_fisher_is_the_mean_squared_gradient():
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -1.0]]))
    batches = [{"x": torch.tensor([[1.0, 2.0]]), "y": torch.tensor([[0.0]])},
               {"x": torch.tensor([[3.0, 1.0]]), "y": torch.tensor([[1.0]])}]

    def loss(m, b):
        return ((m(b["x"]) - b["y"]) ** 2).sum()

    fisher = diagonal_fisher(model, batches, loss)
    # grad = 2 (w·x − y) x: batch 1 → 2(−1)(1, 2) = (−2, −4); batch 2 → 2(2 − 1)(3, 1) = (6, 2)
    assert torch.allclose(fisher["weight"], torch.tensor([[(4 + 36) / 2, (16 + 4) / 2]]))
    assert model.weight.grad is None  # leaves no gradients behind


# ------------------------------------------------------------------------------------------------------------ replay
def _rows(task: str, n: int) -> Dataset:
    return Dataset.from_dict({"answer": [f"{task}{i}" for i in range(n)], "task": [task] * n})


@pytest.mark.parametrize("ratio", [0.2, 0.5])
def test_replay_mix_matches_its_ratio(ratio):
    buffer = ReplayBuffer(capacity=50, seed=0)
    buffer.add("a", _rows("a", 200))
    mixed = buffer.mix(_rows("b", 80), ratio)
    replayed = sum(t == "a" for t in mixed["task"])
    assert replayed / len(mixed) == pytest.approx(ratio, abs=0.01) and sum(t == "b" for t in mixed["task"]) == 80


def test_reservoir_stays_bounded_and_uniform_and_per_task_splits_evenly():
    buffer = ReplayBuffer(capacity=100, strategy="reservoir", seed=0)
    buffer.add("a", _rows("a", 1000))
    buffer.add("b", _rows("b", 1000))
    share = sum(t == "a" for t, _ in buffer.slots) / len(buffer)
    assert len(buffer) == 100 and 0.35 < share < 0.65  # each row seen kept with probability 100 / 2000
    per_task = ReplayBuffer(capacity=90, strategy="per_task", seed=0)
    for task in ("a", "b", "c"):
        per_task.add(task, _rows(task, 200))
    assert sorted(sum(t == x for t, _ in per_task.slots) for x in "abc") == [30, 30, 30]
    assert ReplayBuffer(10).mix(_rows("b", 5), 0.5)["task"] == ["b"] * 5  # an empty buffer replays nothing


# --------------------------------------------------------------------------------------------------------------- LwF
def test_distillation_is_zero_when_student_is_teacher_and_positive_otherwise(tiny_model_path):
    from transformers import AutoModelForImageTextToText

    student = AutoModelForImageTextToText.from_pretrained(tiny_model_path, dtype=torch.float32)
    teacher = AutoModelForImageTextToText.from_pretrained(tiny_model_path, dtype=torch.float32)
    ids = torch.tensor([[5, 6, 7, 8, 9, 10]])
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids),
              "labels": torch.tensor([[-100, -100, -100, 8, 9, 10]])}
    penalty = DistillationPenalty(teacher, weight=1.0, temperature=2.0)
    assert penalty(student, inputs).item() == pytest.approx(0.0, abs=1e-7)
    with torch.no_grad():
        student.lm_head.weight.add_(0.05 * torch.randn_like(student.lm_head.weight))
    term = penalty(student, inputs)
    assert term.item() > 1e-4 and term.requires_grad
    no_answer = {**inputs, "labels": torch.full_like(ids, -100)}
    assert penalty(student, no_answer).item() == 0.0


# ------------------------------------------------------------------------------------------------------------ mm_ewc
def test_parameters_are_grouped_into_vision_projector_and_language():
    from rdbcl.methods.mm_ewc import param_group

    assert [param_group(n) for n in (
        "model.vision_model.encoder.layers.0.mlp.fc1.weight", "model.connector.modality_projection.proj.weight",
        "model.text_model.layers.0.self_attn.q_proj.weight", "lm_head.weight",  # Idefics3 / SmolVLM
        "model.visual.blocks.0.attn.qkv.weight", "model.visual.merger.mlp.0.weight",  # Qwen2.5-VL
        "model.language_model.layers.0.mlp.up_proj.weight", "model.multi_modal_projector.linear_1.weight",  # LLaVA
    )] == ["vision", "projector", "language", "language", "vision", "projector", "language", "projector"]


def test_adaptive_weights_put_each_module_on_the_same_scale():
    from rdbcl.methods.mm_ewc import adaptive_weights, param_group

    fisher = {"model.vision_model.w": torch.full((4,), 1e-2), "model.connector.w": torch.full((2,), 1e-6),
              "model.text_model.w": torch.full((10,), 1e-4)}
    weights = adaptive_weights(fisher)
    total = torch.cat([f for f in fisher.values()]).mean().item()
    scaled = {n: (f * weights[param_group(n)]).mean().item() for n, f in fisher.items()}
    assert all(v == pytest.approx(total) for v in scaled.values())
    assert adaptive_weights({"model.text_model.w": torch.zeros(3)})["language"] == 0.0


def test_consistency_is_zero_against_an_identical_model_and_positive_after_a_change(tiny_model_path):
    from PIL import Image
    from transformers import AutoModelForImageTextToText

    from rdbcl.models.loading import load_processor
    from rdbcl.sft.penalties import CrossModalConsistency, similarity_structure
    from task_streams import make_prompt

    processor = load_processor(tiny_model_path, __import__("trl").ModelConfig())
    prompts = [make_prompt(q) for q in ("what colour is the shape?", "which digit from 0 to 4 is shown?", "hi")]
    texts = [processor.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
    images = [[Image.new("RGB", (64, 64), c)] for c in ("red", "blue", "green")]
    inputs = dict(processor(text=texts, images=images, padding=True, return_tensors="pt"))
    current = AutoModelForImageTextToText.from_pretrained(tiny_model_path, dtype=torch.float32)
    previous = AutoModelForImageTextToText.from_pretrained(tiny_model_path, dtype=torch.float32)
    assert similarity_structure(current, inputs).shape == (3, 3)
    penalty = CrossModalConsistency(previous, weight=1.0)
    assert penalty(current, inputs).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        for p in current.model.connector.parameters():
            p.add_(0.5 * torch.randn_like(p))
    term = penalty(current, inputs)
    assert term.item() > 1e-4 and term.requires_grad


# ------------------------------------------------------------------------------------------------------ end to end
@pytest.mark.parametrize("method", ["seq_ft", "replay", "ewc", "mm_ewc", "lwf"])
def test_sft_methods_run_end_to_end(tmp_path, two_task_stream, method):
    from rdbcl.run.loop import StreamRunner
    from rdbcl.train import parse_args

    argv = [*EMBEDDED, "--method", method, "--max_steps", "3", "--warm_start_steps", "0",
            "--per_device_train_batch_size", "8",
            "--learning_rate", "0.001", "--fisher_batches", "2", "--replay_ratio", "0.5", "--replay_buffer_size", "64",
            "--eval_batch_size", "8",
            "--logging_steps", "1", "--output_dir", str(tmp_path / "run")]
    runner = StreamRunner(*parse_args(argv), stream=two_task_stream)
    results = runner.run()
    written = json.loads((tmp_path / "run" / "results.json").read_text())
    assert written["complete"] and written["acc"] == results["acc"] and len(written["acc"]) == 2
    logs = [[e for e in t["train_log"] if "loss" in e] for t in written["tasks"]]
    assert [len(log) for log in logs] == [3, 3]
    for penalty in {"ewc": ["ewc"], "mm_ewc": ["ewc", "consistency"], "lwf": ["lwf"]}.get(method, []):
        key = f"penalty/{penalty}"  # nothing to preserve on the first task; a positive pull once the second moves
        assert not any(key in e for e in logs[0]) and logs[1][-1][key] > 0, key
    if method == "replay":
        assert len(runner.method.buffer) == 64 and {t for t, _ in runner.method.buffer.slots} == {"colour",
                                                                                                     "digit_0_4"}
    if method in ("ewc", "mm_ewc"):
        (anchor, fisher), _ = runner.method.terms
        assert set(anchor) == set(fisher) and all((f >= 0).all() for f in fisher.values())
    state = tmp_path / "run" / "tasks" / "task1-digit_0_4" / "method_state.pt"
    assert state.is_file() == (method in ("replay", "ewc", "mm_ewc"))
    if method == "mm_ewc":
        assert set(written["tasks"][0]["mm_ewc"]["group_weights"]) == {"vision", "projector", "language"}


def test_ewc_refuses_lora_with_a_clear_message(tmp_path, two_task_stream):
    from rdbcl.run.loop import StreamRunner
    from rdbcl.train import parse_args

    argv = [*EMBEDDED, "--method", "ewc", "--max_steps", "1", "--warm_start_steps", "0", "--use_peft", "true",
            "--lora_target_modules", "q_proj", "v_proj", "--eval_before_stream", "false",
            "--output_dir", str(tmp_path / "run")]
    runner = StreamRunner(*parse_args(argv), stream=two_task_stream)
    with pytest.raises(ValueError, match="ewc: needs full fine-tuning"):
        runner.run()


def test_replay_buffer_state_survives_a_resume():
    data = {"a": _rows("a", 100), "b": _rows("b", 100)}
    buffer = ReplayBuffer(capacity=30, seed=3)
    for task, rows in data.items():
        buffer.add(task, rows)
    restored = ReplayBuffer(capacity=30, seed=99)
    restored.load_state_dict(buffer.state_dict(), data)
    assert restored.slots == buffer.slots
    assert restored.sample(10)["answer"] == buffer.sample(10)["answer"]  # same random stream from here on


# ------------------------------------------------------------------------------------------------------------- O-LoRA
def test_orthogonality_is_zero_for_orthogonal_subspaces_and_positive_otherwise():
    from rdbcl.sft.penalties.orthogonality import subspace_overlap

    eye = torch.eye(4)
    assert subspace_overlap(eye[2:], eye[:2]).item() == 0.0  # span{e3, e4} ⟂ span{e1, e2}
    tilted = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 2.0]])
    assert subspace_overlap(tilted, eye[:2]).item() == pytest.approx(1.0)  # only <e1, row 1> = 1


def test_olora_penalty_reads_the_adapters_down_projections():
    from peft import LoraConfig, get_peft_model

    from rdbcl.sft.penalties.orthogonality import OrthogonalityPenalty, lora_down_weights

    torch.manual_seed(0)
    model = get_peft_model(torch.nn.Sequential(torch.nn.Linear(4, 4)), LoraConfig(r=2, target_modules=["0"]))
    (name, a), = lora_down_weights(model).items()
    with torch.no_grad():
        a.copy_(torch.eye(4)[2:])
    orthogonal = OrthogonalityPenalty([{name: torch.eye(4)[:2]}], weight=3.0)
    overlapping = OrthogonalityPenalty([{name: torch.eye(4)[1:3]}], weight=3.0)
    assert orthogonal(model).item() == 0.0
    assert overlapping(model).item() == pytest.approx(3.0 * 1.0)  # e3 shared: one unit entry
    assert overlapping(model).requires_grad


def test_olora_runs_end_to_end_with_lora(tmp_path, two_task_stream):
    from rdbcl.run.loop import StreamRunner
    from rdbcl.train import parse_args

    argv = [*EMBEDDED, "--method", "olora", "--max_steps", "2", "--warm_start_steps", "0", "--use_peft", "true",
            "--lora_target_modules", "q_proj", "v_proj", "--lora_dropout", "0", "--per_device_train_batch_size", "8",
            "--learning_rate", "0.001", "--eval_batch_size", "8", "--logging_steps", "1",
            "--output_dir", str(tmp_path / "run")]
    runner = StreamRunner(*parse_args(argv), stream=two_task_stream)
    results = runner.run()
    logs = [[e for e in t["train_log"] if "loss" in e] for t in results["tasks"]]
    assert not any("penalty/orthogonality" in e for e in logs[0])
    assert all(e["penalty/orthogonality"] > 0 for e in logs[1])
    assert len(runner.method.subspaces) == 2 and all(a.shape[0] == 16 for a in runner.method.subspaces[0].values())
    assert not (tmp_path / "run" / "policies" / "task1-digit_0_4" / "adapter_config.json").exists()  # merged


def test_olora_needs_lora(tmp_path, two_task_stream):
    from rdbcl.run.loop import StreamRunner
    from rdbcl.train import parse_args

    argv = [*EMBEDDED, "--method", "olora", "--max_steps", "1", "--warm_start_steps", "0",
            "--eval_before_stream", "false", "--output_dir", str(tmp_path / "run")]
    with pytest.raises(ValueError, match="olora: trains one LoRA adapter per task; set use_peft: true"):
        StreamRunner(*parse_args(argv), stream=two_task_stream).run()


# ----------------------------------------------------------------------------------------------------------- MoELoRA
def test_moelora_routes_with_gates_summing_to_one_and_gradients_reaching_the_experts():
    from rdbcl.sft.moelora import MoELoRALinear, inject_moelora

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    x = torch.randn(2, 7, 6)
    before = model(x).detach()
    layers = inject_moelora(model, ["0"], experts=3, rank=2, alpha=4.0)
    layer = layers["0"]
    assert isinstance(model[0], MoELoRALinear) and torch.allclose(model(x), before)  # B = 0: the base layer
    with torch.no_grad():
        layer.router.weight.normal_()
        layer.lora_B.normal_()
    gates = layer.gates(x)
    assert gates.shape == (2, 7, 3) and torch.allclose(gates.sum(-1), torch.ones(2, 7))
    assert not torch.allclose(gates[0, 0], gates[0, 1])  # per-token routing
    model(x).sum().backward()
    assert layer.lora_A.grad.abs().sum() > 0 and layer.lora_B.grad.abs().sum() > 0
    assert layer.router.weight.grad.abs().sum() > 0 and layer.weight.grad is None  # base frozen
    assert set(model.state_dict()) >= {"0.weight", "0.bias", "0.lora_A", "0.lora_B", "0.router.weight"}
    assert inject_moelora(model, ["0"])["0"] is layer  # idempotent


def test_moelora_runs_end_to_end_and_its_policies_load_as_plain_models(tmp_path, two_task_stream):
    from transformers import AutoModelForImageTextToText

    from rdbcl.run.loop import StreamRunner
    from rdbcl.train import parse_args

    argv = [*EMBEDDED, "--method", "moelora", "--max_steps", "2", "--warm_start_steps", "0",
            "--per_device_train_batch_size", "8",
            "--learning_rate", "0.001", "--eval_batch_size", "8", "--logging_steps", "1",
            "--output_dir", str(tmp_path / "run")]
    runner = StreamRunner(*parse_args(argv), stream=two_task_stream)
    results = runner.run()
    assert results["complete"] and all(sum("loss" in e for e in t["train_log"]) == 2 for t in results["tasks"])
    experts = runner.method.experts
    assert experts and all(s["lora_A"].shape[0] == 4 for s in experts.values())
    assert any(s["lora_B"].abs().sum() > 0 for s in experts.values())  # the experts learned
    plain = AutoModelForImageTextToText.from_pretrained(str(tmp_path / "run" / "policies" / "task1-digit_0_4"))
    assert not any("lora" in n for n, _ in plain.named_parameters())
    assert (tmp_path / "run" / "tasks" / "task1-digit_0_4" / "method_state.pt").is_file()
