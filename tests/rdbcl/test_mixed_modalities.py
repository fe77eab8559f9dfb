"""Tasks whose rows mix image and text-only questions (CoIN's ScienceQA has both): evaluation batches, TRL's SFT
collator and GRPO batches, and every method end to end on such a stream with the embedded model; the same layers
with the LLaVA and Qwen2-VL processors' conventions (tiny random models, no hub)."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import pytest
import torch

from rdbcl.methods.replay_buffer import ReplayBuffer
from rdbcl.methods.warm_start import to_sft_dataset
from rdbcl.models.generation import generate_answers, per_sample_images, processor_inputs
from rdbcl.models.loading import load_policy, load_processor
from rdbcl.run.evaluate import evaluate_task
from rdbcl.run.loop import StreamRunner
from rdbcl.sft.trainer import ImageListCollator
from rdbcl.train import parse_args
from reward_fns.routing import decoded
from task_streams import Task, TaskStream


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "task_streams"))
from coin_fixture import write_coin  # noqa: E402
from mixed_rows import mixed, text_only_odd_rows
from suite_recipes import EMBEDDED


@pytest.fixture(scope="module")
def embedded(tiny_model_path):
    from trl import ModelConfig

    return load_policy(tiny_model_path, ModelConfig()), load_processor(tiny_model_path, ModelConfig())


@pytest.fixture(scope="module")
def mixed_stream(two_task_stream) -> TaskStream:
    """colour → digit_0_4, 8 training rows (4 with an image) and 8 eval rows (4 with an image) per task."""
    return TaskStream("mixed", [mixed(t, 8) for t in two_task_stream.tasks])


# -------------------------------------------------------------------------------------------------- evaluation
class ProbeTask(Task):
    """A task whose metric records the rows it scores and gives the image rows (even ``row``) 1, the others 0."""

    def metric_function(self, on_error: str = "raise"):
        def probe(completions, row, **kwargs):
            self.scored.extend(row)
            assert len(row) == len(completions) == len(kwargs["completion_ids"])
            return [1.0 if r % 2 == 0 else 0.0 for r in row]

        return probe


def test_mixed_eval_batches_score_every_row_once_in_order_with_its_own_image(embedded, mixed_stream):
    model, processor = embedded
    source = mixed_stream.tasks[0].eval.select(range(6))
    task = ProbeTask("probe", source, source.add_column("row", list(range(6))))
    task.scored = []
    result = evaluate_task(model, processor, task, batch_size=4, max_new_tokens=3)  # batches of 4 + 2, both mixed
    assert task.scored == [0, 1, 2, 3, 4, 5] and result["n"] == 6
    assert result["accuracy"] == pytest.approx(100.0 * 3 / 6)  # rows 0, 2, 4 have an image, by the probe's rule

    # Each row of the mixed batch gets the next-token logits it gets alone: its own image, or none.
    rows = source[:4]
    texts = [processor.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in rows["prompt"]]
    images = per_sample_images(rows["image"], 4)
    assert [len(i) for i in images] == [1, 0, 1, 0]
    with torch.no_grad():
        together = model(**processor_inputs(processor, texts, images)).logits[:, -1]
        alone = [model(**processor_inputs(processor, [text], [image])).logits[0, -1]
                 for text, image in zip(texts, images, strict=True)]
        other_image = model(**processor_inputs(processor, texts[:1], images[2:3])).logits[0, -1]
    torch.testing.assert_close(together, torch.stack(alone), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(alone[0], other_image, atol=1e-3)  # so the image that reaches row 0 is row 0's


def test_processor_without_image_padding_fails_with_the_remedy_and_padding_leaves_all_image_batches_unchanged(
        embedded, mixed_stream, tiny_model_path):
    from trl import ModelConfig

    model, processor = embedded
    assert processor.image_processor.do_pad  # the embedded processor pads to the batch's image count
    unpadded = load_processor(tiny_model_path, ModelConfig())
    unpadded.image_processor.do_pad = False
    task = mixed_stream.tasks[0]
    with pytest.raises(ValueError, match="mixing image and text-only rows.*do_pad"):
        evaluate_task(model, unpadded, task, batch_size=8, max_new_tokens=2)

    rows = task.eval[:3:2]  # two image rows
    texts = [processor.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in rows["prompt"]]
    padded, plain = (processor_inputs(p, texts, per_sample_images(rows["image"], 2)) for p in (processor, unpadded))
    assert torch.equal(padded["pixel_values"], plain["pixel_values"]) and padded["pixel_attention_mask"].all()
    assert generate_answers(model, processor, rows["prompt"], rows["image"], 4) == \
        generate_answers(model, unpadded, rows["prompt"], rows["image"], 4)


# ------------------------------------------------------------------------------------------------ SFT collator
def test_sft_collator_takes_mixed_and_all_text_batches(embedded, mixed_stream):
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    model, processor = embedded
    image_token = processor.tokenizer.convert_tokens_to_ids("<image>")
    trl_collator = DataCollatorForVisionLanguageModeling(processor, completion_only_loss=True)
    rows = list(to_sft_dataset(mixed_stream.tasks[0].train))
    with pytest.raises(ValueError, match=r"Number of images provided \(1\) does not match .* placeholders \(0\)"):
        trl_collator([dict(r) for r in rows[:4]])  # TRL's own collator counts a None image as one image

    collate = ImageListCollator(trl_collator)
    batch = collate(rows[:4])
    assert batch["pixel_values"].shape[:2] == (4, 1)  # Idefics3: one (padded) image slot per sample
    assert [bool(batch["pixel_values"][i].abs().sum()) for i in range(4)] == [True, False, True, False]
    assert (batch["input_ids"] == image_token).sum(1).tolist() == [processor.image_seq_len, 0] * 2
    text_batch = collate(rows[1:8:2])
    assert "pixel_values" not in text_batch and not (text_batch["input_ids"] == image_token).any()
    for b in (batch, text_batch):
        assert ((b["labels"] != -100).sum(1) > 0).all()  # the answer is learned on every row
        loss = model(**{k: v for k, v in b.items() if k != "completion_mask"}).loss
        assert math.isfinite(loss.item())


# --------------------------------------------------------------------------------------------------- end to end
def _run(tmp_path, stream, method: str, *extra) -> dict:
    argv = [*EMBEDDED, "--method", method, "--max_steps", "2", "--warm_start_steps", "0",
            "--per_device_train_batch_size", "16",
            "--num_generations", "2", "--max_completion_length", "6", "--eval_batch_size", "8",
            "--learning_rate", "0.001", "--fisher_batches", "1", "--replay_ratio", "0.5", "--replay_buffer_size", "8",
            "--logging_steps", "1", "--output_dir", str(tmp_path / "run"), *extra]
    return StreamRunner(*parse_args(argv), stream=stream).run()


def _check_run(results: dict, tmp_path, eval_rows: dict[str, int], steps: int = 2) -> None:
    n = len(eval_rows)
    assert results["complete"] and len(results["zero_shot"]) == n
    acc = results["acc"]
    assert [len(row) for row in acc] == [n] * n and all(0.0 <= x <= 100.0 for row in acc for x in row)
    assert results["eval_rows"] == eval_rows  # every eval row, image or not, scored
    for k, task in enumerate(results["tasks"]):
        logged = [e for e in task["train_log"] if "loss" in e]
        assert len(logged) == steps
        figures = [v for e in logged + task["warm_start_log"] for v in e.values() if isinstance(v, float)]
        assert figures and all(math.isfinite(v) for v in figures), task["name"]  # losses, grad norms, penalties
        assert (tmp_path / "run" / "policies" / f"task{k}-{task['name']}" / "model.safetensors").is_file()


MIXED_EVAL_ROWS = {"colour": 8, "digit_0_4": 8}


# Each training batch holds every row of its task (GRPO: 16 completions = 8 prompts × 2; SFT: 16 ≥ 8 rows), so every
# step trains on a batch mixing image and text-only rows.
@pytest.mark.parametrize("method, extra", [
    ("grpo", ["--warm_start_steps", "1", "--warm_start_batch_size", "8"]),
    ("rdbcl", ["--beta_min", "0.01", "--beta_max", "0.1"]),
    ("seq_ft", []),
])
def test_methods_train_and_evaluate_a_stream_of_mixed_tasks(tmp_path, mixed_stream, method, extra):
    results = _run(tmp_path, mixed_stream, method, *extra)
    _check_run(results, tmp_path, MIXED_EVAL_ROWS)
    if method == "grpo":
        assert all(any("loss" in e for e in t["warm_start_log"]) for t in results["tasks"])
        assert results["tasks"][0]["after_warm_start"] is not None
    if method == "rdbcl":
        for task in results["tasks"]:
            summary = task["rdbcl"]["mean_over_steps"]
            assert 0.01 <= summary["rdbcl/beta/mean"] <= 0.1 and 0.0 <= summary["rdbcl/rp/mean"] <= 1.0


@pytest.mark.parametrize("method, extra", [
    ("grpo_replay", []),
    ("rapo", []),
    ("rdbcl", ["--rp_estimator", "anchor_pass_rate", "--rp_anchor_rollouts", "2"]),  # anchor rollouts: mixed too
    ("replay", []),
    ("ewc", []),
    ("mm_ewc", []),
    ("lwf", []),
    ("olora", ["--use_peft", "true", "--lora_target_modules", "q_proj", "v_proj", "--lora_dropout", "0"]),
    ("moelora", []),
])
def test_every_other_method_runs_on_mixed_tasks(tmp_path, mixed_stream, method, extra):
    results = _run(tmp_path, mixed_stream, method, "--max_steps", "1", *extra)
    _check_run(results, tmp_path, MIXED_EVAL_ROWS, steps=1)
    penalties = {"mm_ewc": ["penalty/consistency", "penalty/ewc"], "lwf": ["penalty/lwf"]}.get(method, [])
    assert all(p in results["tasks"][1]["train_log"][0] for p in penalties)


def test_grpo_trains_on_an_all_text_batch_of_a_task_with_images(tmp_path, two_task_stream):
    """A task with an image column whose batch happens to hold only text-only rows (TRL would hand the processor a
    list of ``None``)."""
    task = two_task_stream.tasks[0]
    rows = text_only_odd_rows(task.train.select(range(16))).select(range(1, 16, 2))
    assert rows["image"] == [None] * 8
    stream = TaskStream("text_rows", [dataclasses.replace(task, train=rows, eval=rows.select(range(4)))])
    results = _run(tmp_path, stream, "grpo", "--max_steps", "1")
    _check_run(results, tmp_path, {"colour": 4}, steps=1)


def test_coin_copy_with_text_only_scienceqa_rows_trains_and_evaluates(tmp_path):
    """The defect as reported: a CoIN copy whose ScienceQA holds both kinds; zero-shot evaluation and the SFT
    warm-start see all four rows in one batch, GRPO two prompts a step (TextVQA has two training rows)."""
    from task_streams import get_stream

    stream = get_stream("coin", data_root=str(write_coin(tmp_path / "coin")), n_train=0, n_eval=0)
    scienceqa, textvqa = stream.tasks[:2]
    assert scienceqa.name == "scienceqa" and scienceqa.train["image"].count(None) == 2 == len(scienceqa.train) / 2
    assert scienceqa.eval["image"].count(None) == 2 == len(scienceqa.eval) / 2
    results = _run(tmp_path, TaskStream("coin", [scienceqa, textvqa]), "grpo", "--max_steps", "1",
                   "--warm_start_steps", "1", "--warm_start_batch_size", "4", "--per_device_train_batch_size", "4")
    _check_run(results, tmp_path, {"scienceqa": 4, "textvqa": 1}, steps=1)


# ------------------------------------------------------------------------------------- stock processors' conventions
@pytest.mark.filterwarnings("ignore:.*torchvision is not installed")
@pytest.mark.parametrize("family", ["llava", "qwen2_vl"])
def test_stock_processor_conventions_take_mixed_batches(tmp_path, model_family, mixed_stream, family):
    """LLaVA's convention (one flat list of the batch's images, matched to the ``<image>`` placeholders in order) and
    Qwen2-VL's (the images' patches flattened, one ``image_grid_thw`` row per image), on the tiny checkpoints of
    tests/model_families.py."""
    from trl import GRPOConfig, ModelConfig
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    from rdbcl.rl.trainer import ContinualGRPOTrainer

    torch.manual_seed(0)
    path = model_family(family)
    model, processor = load_policy(path, ModelConfig()), load_processor(path, ModelConfig())
    model.generation_config.pad_token_id = processor.tokenizer.pad_token_id
    task = dataclasses.replace(mixed_stream.tasks[0], train=mixed_stream.tasks[0].train.select(range(4)))
    assert evaluate_task(model, processor, task, batch_size=8, max_new_tokens=3)["n"] == 8

    batch = ImageListCollator(DataCollatorForVisionLanguageModeling(processor, completion_only_loss=True))(
        list(to_sft_dataset(task.train)))
    images = len(batch["image_grid_thw"]) if "image_grid_thw" in batch else batch["pixel_values"].shape[0]
    assert images == 2  # rows 0 and 2 have an image; rows 1 and 3 get no placeholder
    assert ((batch["input_ids"] == model.config.image_token_id).sum(1) > 0).tolist() == [True, False, True, False]
    assert math.isfinite(model(**{k: v for k, v in batch.items() if k != "completion_mask"}).loss.item())

    model.save_pretrained(tmp_path / "anchor")  # TRL loads the KL reference from the model's path
    model.config._name_or_path = str(tmp_path / "anchor")
    rewards, weights = task.reward_functions()
    args = GRPOConfig(output_dir=str(tmp_path / "grpo"), max_steps=1, per_device_train_batch_size=8,
                      num_generations=2, max_completion_length=4, beta=0.04, reward_weights=weights, use_cpu=True,
                      report_to=[], logging_steps=1, save_strategy="no", disable_tqdm=True)
    trainer = ContinualGRPOTrainer(model=model, reward_funcs=rewards, args=args, train_dataset=task.train,
                                   processing_class=processor)
    trainer.train()  # one step over all four rows (8 completions = 4 prompts × 2): two with an image, two without
    (logged,) = [e for e in trainer.state.log_history if "loss" in e]
    assert all(math.isfinite(v) for v in logged.values() if isinstance(v, float))


# ------------------------------------------------------------------------- replay across tasks of different schemas
def _text_only_and_vqa_tasks(tmp_path) -> TaskStream:
    """A text-only task without an ``image`` column and letter answers (CoIN ScienceQA's text rows), then TextVQA
    (images, lists of answers): replaying the first into the second mixes columns and answer types."""
    from task_streams import get_stream

    stream = get_stream("coin", data_root=str(write_coin(tmp_path / "coin")), n_train=0, n_eval=0)
    scienceqa, textvqa = stream.tasks[:2]
    text_rows = [i for i, image in enumerate(scienceqa.train["image"]) if image is None]
    text_eval = [i for i, image in enumerate(scienceqa.eval["image"]) if image is None]
    text_only = dataclasses.replace(scienceqa, train=scienceqa.train.select(text_rows).remove_columns("image"),
                                    eval=scienceqa.eval.select(text_eval).remove_columns("image"))
    return TaskStream("coin_text_then_vqa", [text_only, textvqa])


def test_replayed_rows_keep_their_own_answers_and_rewards(tmp_path):
    stream = _text_only_and_vqa_tasks(tmp_path)
    text_only, textvqa = stream.tasks
    assert "image" not in text_only.train.column_names and textvqa.train.features["answer"] != \
        text_only.train.features["answer"]
    buffer = ReplayBuffer(8, seed=0)
    buffer.add(text_only.name, text_only.train)
    mixed = buffer.mix(textvqa.train, 0.5)  # 2 TextVQA rows + 2 replayed ScienceQA rows
    assert sorted(mixed["task"]) == ["scienceqa", "scienceqa", "textvqa", "textvqa"]
    own = {t: [i for i, name in enumerate(mixed["task"]) if name == t] for t in ("scienceqa", "textvqa")}
    assert all(mixed[i]["image"] is None for i in own["scienceqa"])
    assert all(mixed[i]["image"] is not None for i in own["textvqa"])

    # each task's reward sees its own rows' answers as that task stores them: a letter, a list of answers
    rows = mixed.remove_columns("image").to_list()
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    assert columns["json_columns"] == [["answer"]] * 4  # the two tasks' answer types differ: stored as JSON text
    answers = decoded(columns)["answer"]
    for task in stream.tasks:  # each row's answer is its source row's, found by its question
        source = {_question(r["prompt"]): r["answer"] for r in task.train.remove_columns(
            [c for c in ("image",) if c in task.train.column_names]).to_list()}
        assert [answers[i] for i in own[task.name]] == [source[_question(rows[i]["prompt"])] for i in own[task.name]]
    assert {type(answers[i]) for i in own["scienceqa"]} == {str} and {type(answers[i]) for i in own["textvqa"]} == {
        list}
    right = [f"<think>t</think><answer>{a if isinstance(a, str) else a[0]}</answer>" for a in answers]
    for task in stream.tasks:
        [accuracy, _] = task.reward_functions()[0]
        scores = accuracy(completions=right, **columns)
        assert [scores[i] for i in own[task.name]] == [1.0, 1.0], task.name
        assert all(scores[i] is None for i in range(4) if i not in own[task.name])

    # SFT targets of replayed rows are their own answers, not JSON text
    targets = [c[0]["content"][0]["text"] for c in to_sft_dataset(mixed)["completion"]]
    assert [targets[i] for i in own["scienceqa"]] == [f"<answer>{answers[i]}</answer>" for i in own["scienceqa"]]
    assert [targets[i] for i in own["textvqa"]] == [f"<answer>{answers[i][0]}</answer>" for i in own["textvqa"]]


def _question(prompt: list[dict]) -> str:
    return prompt[-1]["content"][-1]["text"]


@pytest.mark.parametrize("method", ["replay", "grpo_replay"])
def test_replay_methods_train_across_tasks_of_different_schemas(tmp_path, method):
    stream = _text_only_and_vqa_tasks(tmp_path)
    results = _run(tmp_path, stream, method, "--max_steps", "1", "--per_device_train_batch_size", "4")
    _check_run(results, tmp_path, {"scienceqa": 2, "textvqa": 1}, steps=1)
    if method == "grpo_replay":
        logged = results["tasks"][1]["train_log"][0]
        assert math.isfinite(logged["rewards/scienceqa/multiple_choice/mean"])  # the replayed rows were scored
