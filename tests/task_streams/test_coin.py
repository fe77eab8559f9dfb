"""The CoIN stream read from its released LLaVA-style files: prompts, images, answers, rewards, bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from coin_fixture import INSTRUCTIONS, TASKS, write_coin

from task_streams import get_stream
from task_streams.data_error import DataError
from task_streams.spec import StreamSpecError, load_stream_spec


ORDER = ["scienceqa", "textvqa", "imagenet", "gqa", "vizwiz", "grounding", "vqav2", "ocrvqa"]


@pytest.fixture()
def coin_root(tmp_path):
    return write_coin(tmp_path / "coin")


def _stream(root, **kwargs):
    return get_stream("coin", data_root=str(root), n_train=0, n_eval=0, **kwargs)


def test_coin_tasks_in_paper_order_with_prompts_images_and_answers(coin_root):
    stream = _stream(coin_root)
    assert stream.names == ORDER
    for task, (_, train, evaluation) in zip(stream, TASKS.values(), strict=True):
        assert len(task.train) == len(train) and len(task.eval) == len(evaluation)
        expected = {q: a for _, q, a in train}
        for row in task.train:
            system, user = row["prompt"]
            assert system["role"] == "system" and "<answer>" in system["content"][0]["text"]
            question = user["content"][-1]["text"]
            assert "<image>" not in question and question in expected
            has_image = row.get("image") is not None
            assert [p["type"] for p in user["content"]] == (["image", "text"] if has_image else ["text"])
            if has_image:
                assert row["image"].size == (32, 24)  # decoded on access, from the path
            answer = expected[question]
            assert row["answer"] == ([float(v) for v in json.loads(answer)] if task.name == "grounding"
                                     else [answer] if task.name in ("textvqa", "vqav2") else answer)
            assert row["task"] == task.name


def test_images_are_kept_as_paths_until_used(coin_root):
    task = _stream(coin_root).tasks[1]
    stored = task.train.data.column("image").to_pylist()
    assert all(cell["bytes"] is None and cell["path"].startswith(str(coin_root)) for cell in stored)


def _completion(answer) -> str:
    if isinstance(answer, list) and answer and isinstance(answer[0], float):
        return f"<think>the box</think><answer>{answer}</answer>"
    return f"<think>...</think><answer>{answer[0] if isinstance(answer, list) else answer}</answer>"


WRONG = {"scienceqa": "D", "grounding": "[0.9, 0.9, 0.95, 0.95]"}


def test_each_task_scores_a_right_answer_1_and_a_wrong_one_0(coin_root):
    for task in _stream(coin_root):
        row = task.eval[0]
        columns = {k: [row[k]] * 2 for k in row if k != "prompt"}
        completions = [_completion(row["answer"]), f"<answer>{WRONG.get(task.name, 'zebra crossing')}</answer>"]
        scorers = [task.metric_function(), *task.reward_functions()[0][:1]]
        for fn in scorers:
            assert fn(completions, **columns) == [1.0, 0.0], (task.name, fn.__name__)


def _edit(root, task: str, file: str, change) -> None:
    path = root / INSTRUCTIONS / task / file
    rows = json.loads(path.read_text())
    change(rows)
    path.write_text(json.dumps(rows))


@pytest.mark.parametrize("task, file, change, field, problem", [
    ("GQA", "train.json", lambda rows: rows[0].update(image="GQA/images/missing.jpg"), "image", "not found"),
    ("GQA", "train.json", lambda rows: rows[0].update(image="../../../../etc/passwd"), "image", "outside"),
    ("GQA", "train.json", lambda rows: rows[0].update(image=7), "image", "path string"),
    ("GQA", "test.json", lambda rows: rows[0].update(text="  "), "text", "empty"),
    ("GQA", "test.json", lambda rows: rows[0].pop("answer"), "answer", "missing"),
    ("GQA", "train.json", lambda rows: rows[0].update(conversations="what?"), "conversations", "list"),
    ("GQA", "train.json", lambda rows: rows[0]["conversations"][1].update(value=""), "conversations", "empty"),
    ("Grounding", "test.json", lambda rows: rows[0].update(answer_bbox="left"), "answer_bbox", "box"),
    ("Grounding", "test.json", lambda rows: rows[0].update(answer_bbox=[0.2, 0.1, 0.2, 0.9]), "answer_bbox",
     "zero-area box [0.2, 0.1, 0.2, 0.9]"),
    ("ScienceQA", "train.json", lambda rows: rows[0]["conversations"][1].update(value="maybe"), "answer", "letter"),
])
def test_bad_rows_name_file_row_and_field(coin_root, task, file, change, field, problem):
    _edit(coin_root, task, file, change)
    with pytest.raises(DataError) as caught:
        _stream(coin_root)
    error = caught.value
    assert error.file.endswith(f"{task}/{file}") and error.row == 0 and error.field == field
    assert problem in str(error) and f"{task}/{file}, row 0, field '{field}'" in str(error)


def test_skip_invalid_skips_counts_and_reports(coin_root, tmp_path):
    _edit(coin_root, "TextVQA", "train.json", lambda rows: rows[0].update(image="TextVQA/nope.jpg"))
    spec_file = tmp_path / "coin_lenient.yaml"
    from task_streams import shipped

    text = (shipped.STREAMS_DIR / "coin.yaml").read_text()
    spec_file.write_text(text.replace("image_root: cl_dataset", "image_root: cl_dataset\nskip_invalid: true"))
    stream = get_stream(str(spec_file), data_root=str(coin_root), n_train=0, n_eval=0)
    textvqa = stream.tasks[1]
    assert len(textvqa.train) == 1 and textvqa.skipped == {"train": 1}
    assert textvqa.describe()["skipped_rows"] == {"train": 1}


def test_a_missing_release_file_says_what_to_point_at(coin_root):
    shutil.rmtree(coin_root / INSTRUCTIONS / "OCRVQA")
    with pytest.raises(DataError, match=r"OCRVQA/train.json: file not found \(is --data_root"):
        _stream(coin_root)


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("answer_type: letter", "answer_type: letters"), "answer_type: unknown answer type"),
    (lambda t: t.replace("format: llava", "format: parquet", 1), "format: unknown format 'parquet'"),
    (lambda t: t.replace("metric: multiple_choice", "metric: multiple_choise"), "metric"),
    (lambda t: t.replace("  - name: scienceqa", "  - name: scienceqa\n    colour: red"), "unknown key(s) ['colour']"),
    (lambda t: t.replace("    train: {path: playground/Instructions_Original/ScienceQA/train.json}\n", ""),
     "missing key 'train'"),
])
def test_bad_stream_files_name_the_key(tmp_path, edit, message):
    from task_streams import shipped

    path = tmp_path / "bad.yaml"
    path.write_text(edit((shipped.STREAMS_DIR / "coin.yaml").read_text()))
    with pytest.raises(StreamSpecError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")) as caught:
        load_stream_spec(path)
    assert str(path) in str(caught.value)
