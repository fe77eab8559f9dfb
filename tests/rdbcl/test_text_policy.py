"""A text-only causal LM as the policy of a text stream: it loads with ``AutoModelForCausalLM`` and its tokenizer,
RL and SFT methods train it end to end through the stream loop, and an image task is refused before anything is
written. The model is a tiny random Qwen2 built offline from its config class, with the embedded VLM's tokenizer."""

from __future__ import annotations

import math
import sys

import pytest
import torch
from datasets import Dataset
from model_families import text_qwen2
from suite_recipes import EMBEDDED, RECIPES
from transformers import (
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoTokenizer,
    Gemma3Config,
    LlamaConfig,
    PreTrainedTokenizerBase,
    ProcessorMixin,
)
from trl import ModelConfig

from rdbcl.models.loading import TextOnlyModelError, is_text_only, load_policy, load_processor, policy_class
from rdbcl.models.text_policy import has_images, text_stream
from rdbcl.run.loop import StreamRunner
from rdbcl.train import cli, parse_args
from task_streams import Task, TaskStream, get_stream, make_prompt
from task_streams.base import REASONING_SYSTEM_PROMPT


SFT = ["--config", str(RECIPES / "embedded" / "sft.yaml")]
EVAL_ROWS = {"arithmetic": 4, "algebra": 4}


@pytest.fixture(scope="session")
def text_stream_slice() -> TaskStream:
    """arithmetic → algebra of the reasoning-gym stream: text-only rows, 8 training and 4 eval rows per task."""
    return TaskStream("reasoning", get_stream("reasoning", n_train=8, n_eval=4, seed=0).tasks[:2])


@pytest.fixture(scope="session")
def text_lm_path(tmp_path_factory, text_stream_slice) -> str:
    """A tiny random Qwen2 causal LM (``model_families.text_qwen2``) whose tokenizer is trained on the stream's texts
    and renders string contents only."""
    prompts = [p for t in text_stream_slice for p in [*t.train["prompt"], *t.eval["prompt"]]]
    questions = [p[-1]["content"][0]["text"] for p in prompts]
    corpus = [REASONING_SYSTEM_PROMPT, "system", "user", "assistant", "<think>3 + 4 = 7</think><answer>7</answer>",
              *questions] * 4
    return str(text_qwen2(tmp_path_factory.mktemp("tiny-qwen2"), corpus))


# ---------------------------------------------------------------------------------------------------------- loading
def test_loader_picks_the_auto_class_from_the_config(text_lm_path, tiny_model_path):
    assert policy_class(text_lm_path) is AutoModelForCausalLM
    policy, processor = load_policy(text_lm_path, ModelConfig()), load_processor(text_lm_path, ModelConfig())
    assert type(policy).__name__ == "Qwen2ForCausalLM" and policy.dtype == torch.float32
    assert isinstance(processor, PreTrainedTokenizerBase) and processor.padding_side == "left"

    assert policy_class(tiny_model_path) is AutoModelForImageTextToText
    vlm, vlm_processor = load_policy(tiny_model_path, ModelConfig()), load_processor(tiny_model_path, ModelConfig())
    assert type(vlm).__name__ == "Idefics3ForConditionalGeneration" and isinstance(vlm_processor, ProcessorMixin)
    assert is_text_only(LlamaConfig()) and not is_text_only(Gemma3Config())  # Gemma 3: a causal LM that sees images


def test_text_stream_gives_plain_text_prompts_and_drops_an_empty_image_column(text_stream_slice, text_lm_path):
    task = text_stream_slice.tasks[0]
    tokenizer = load_processor(text_lm_path, ModelConfig())
    with pytest.raises(TypeError):  # the stream's own layout: contents as lists of parts
        tokenizer.apply_chat_template(task.train[0]["prompt"], tokenize=False)
    with_column = task.train.add_column("image", [None] * len(task.train))  # text rows of a task that has images
    assert not has_images(with_column)
    (seen,) = text_stream(TaskStream("s", [Task("t", with_column, task.eval)]), "model").tasks
    assert "image" not in seen.train.column_names and len(seen.train) == len(task.train)
    system, user = seen.train[0]["prompt"]
    assert system == {"role": "system", "content": REASONING_SYSTEM_PROMPT}
    assert user == {"role": "user", "content": task.train[0]["prompt"][1]["content"][0]["text"]}
    assert tokenizer.apply_chat_template([system, user], tokenize=False).count("<|im_start|>") == 2


# ------------------------------------------------------------------------------------------------------- end to end
def _run(tmp_path, text_lm_path, stream, recipe: list[str], method: str, *extra) -> dict:
    argv = [*recipe, "--stream", "reasoning", "--model_name_or_path", text_lm_path, "--method", method,
            "--max_steps", "2", "--warm_start_steps", "0", "--per_device_train_batch_size", "4",
            "--num_generations", "2", "--max_completion_length", "8", "--eval_batch_size", "8",
            "--eval_max_new_tokens", "8", "--learning_rate", "0.001", "--logging_steps", "1",
            "--fisher_batches", "1", "--replay_buffer_size", "8", "--output_dir", str(tmp_path / "run"), *extra]
    return StreamRunner(*parse_args(argv), stream=stream).run()


def _check_run(results: dict, tmp_path, text_lm_path, steps: int = 2) -> None:
    acc = results["acc"]
    assert results["complete"] and len(results["zero_shot"]) == 2
    assert [len(row) for row in acc] == [2, 2] and all(0.0 <= x <= 100.0 for row in acc + [results["zero_shot"]]
                                                        for x in row)
    assert results["eval_rows"] == EVAL_ROWS
    base = AutoModelForCausalLM.from_pretrained(text_lm_path)
    for k, task in enumerate(results["tasks"]):
        logged = [e for e in task["train_log"] if "loss" in e]
        assert len(logged) == steps
        figures = [v for e in logged + task["warm_start_log"] for v in e.values() if isinstance(v, float)]
        assert figures and all(math.isfinite(v) for v in figures), task["name"]
        policy_dir = tmp_path / "run" / "policies" / f"task{k}-{task['name']}"
        policy = AutoModelForCausalLM.from_pretrained(policy_dir)  # π_k: the next task's anchor, reloadable
        assert type(policy).__name__ == "Qwen2ForCausalLM" and policy.config.vocab_size == base.config.vocab_size
        assert isinstance(AutoTokenizer.from_pretrained(policy_dir), PreTrainedTokenizerBase)


@pytest.mark.parametrize("method, extra", [
    ("grpo", ["--warm_start_steps", "1", "--warm_start_batch_size", "4"]),  # warm-start: SFT on the tokenizer too
    ("rdbcl", ["--beta_min", "0.01", "--beta_max", "0.1"]),
    ("rdbcl", ["--rp_estimator", "prefix_transfer", "--rp_span", "reasoning", "--beta_max", "0.1"]),  # π_{k-1} writes
], ids=["grpo", "rdbcl", "rdbcl-prefix_transfer"])
def test_rl_methods_train_a_text_only_policy(tmp_path, text_lm_path, text_stream_slice, method, extra):
    results = _run(tmp_path, text_lm_path, text_stream_slice, EMBEDDED, method, *extra)
    _check_run(results, tmp_path, text_lm_path)
    if method == "grpo":
        assert all(any("loss" in e for e in t["warm_start_log"]) for t in results["tasks"])
        assert 0.0 <= results["tasks"][0]["after_warm_start"] <= 100.0
    if method == "rdbcl":
        for task in results["tasks"]:
            summary = task["rdbcl"]["mean_over_steps"]
            assert 0.01 - 1e-9 <= summary["rdbcl/beta/mean"] <= 0.1 and 0.0 <= summary["rdbcl/rp/mean"] <= 1.0


@pytest.mark.parametrize("method, steps", [("seq_ft", 2), ("replay", 1), ("ewc", 1), ("lwf", 1)])
def test_sft_methods_train_a_text_only_policy(tmp_path, text_lm_path, text_stream_slice, method, steps):
    results = _run(tmp_path, text_lm_path, text_stream_slice, SFT, method, "--max_steps", str(steps))
    _check_run(results, tmp_path, text_lm_path, steps=steps)
    base = AutoModelForCausalLM.from_pretrained(text_lm_path)
    trained = AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "policies" / "task0-arithmetic")
    assert not torch.equal(base.model.embed_tokens.weight, trained.model.embed_tokens.weight)  # SFT moved it
    if method == "lwf":
        assert "penalty/lwf" in results["tasks"][1]["train_log"][0]


# ------------------------------------------------------------------------------------------------------- refusal
def test_an_image_task_is_refused_before_anything_is_written(tmp_path, text_lm_path, two_task_stream):
    argv = [*EMBEDDED, "--model_name_or_path", text_lm_path, "--output_dir", str(tmp_path / "run")]
    with pytest.raises(TextOnlyModelError, match=r"task\(s\) 'colour', 'digit_0_4' of stream 'embedded' have images"):
        StreamRunner(*parse_args(argv), stream=two_task_stream)
    mixed = TaskStream("mixed", [two_task_stream.tasks[0], Task("text", Dataset.from_dict(
        {"prompt": [make_prompt("2 + 3?", image=False)], "answer": ["5"], "task": ["text"]}),
        Dataset.from_dict({"prompt": [make_prompt("1 + 1?", image=False)], "answer": ["2"], "task": ["text"]}))])
    with pytest.raises(TextOnlyModelError, match=rf"'colour' of stream 'mixed' .* {text_lm_path!r} is a text-only"):
        StreamRunner(*parse_args(argv), stream=mixed)
    assert not (tmp_path / "run").exists()


def test_command_line_names_the_image_task_as_a_model_error(tmp_path, text_lm_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["rdbcl-train", *EMBEDDED, "--model_name_or_path", text_lm_path, "--n_train", "4",
                                      "--n_eval", "2", "--output_dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit) as exit_info:
        cli()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rdbcl-train: model error: task(s) 'colour', 'digit_0_4', 'digit_5_9' of stream 'embedded' "
                          "have images") and text_lm_path in err
    assert not (tmp_path / "run").exists()
