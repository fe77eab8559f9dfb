"""UCIT and MLLM-CL streams read from their released layouts: prompts, per-split image roots, extracted final
answers, caption references, each task's metric and reward, and the verifiable / offline task selection."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
import yaml
from llava_fixture import write_release
from other_fixtures import ABILITY, ABILITY_VERIFIABLE, CAPTION_REFERENCES, DOMAIN, UCIT, UCIT_VERIFIABLE, write_ucit
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
from transformers import HfArgumentParser

from rdbcl.config import StreamArguments
from task_streams import get_stream
from task_streams.shipped import STREAMS_DIR
from task_streams.spec import StreamSpecError


JAVA = shutil.which("java") is not None
STREAMS = {"ucit": (UCIT, UCIT_VERIFIABLE), "mllm_cl_domain": (DOMAIN, list(DOMAIN)),
           "mllm_cl_ability": (ABILITY, ABILITY_VERIFIABLE)}


def _release(tmp_path, name):
    fixture = STREAMS[name][0]
    return (write_ucit if name == "ucit" else write_release)(tmp_path / name, fixture)


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_verifiable_tasks_read_their_release(tmp_path, name):
    fixture, verifiable = STREAMS[name]
    root = _release(tmp_path, name)
    stream = get_stream(name, data_root=str(root), n_train=0, n_eval=0, verifiable_only=True)
    assert stream.names == verifiable
    for task in stream:
        spec = fixture[task.name]
        assert len(task.train) == len(spec.train) and len(task.eval) == len(spec.eval)
        for data, rows, images in ((task.train, spec.train, spec.train_images), (task.eval, spec.eval,
                                                                                 spec.eval_images)):
            stored = {c["path"] for c in data.data.column("image").to_pylist()}
            assert stored == {str((root / images / r[0]).resolve()) for r in rows}
            questions = {p[1]["content"][-1]["text"] for p in data["prompt"]}
            assert questions == {r[1] for r in rows}
        row = task.eval[0]
        columns = {k: [row[k]] * 2 for k in row if k != "prompt"}
        truth = row["answer"][0] if isinstance(row["answer"], list) else row["answer"]
        completions = [f"<think>...</think><answer>{truth.strip('()')}</answer>", "<answer>nothing like it</answer>"]
        for fn in (task.metric_function(), task.reward_functions()[0][0]):
            if task.name == "perception" and fn.__name__ == "exact_match":
                continue  # trained on counts, evaluated on lettered options: the training reward reads counts
            assert fn(completions, **columns) == [1.0, 0.0], (name, task.name, fn.__name__)


def test_ucit_has_its_six_tasks_in_published_order(tmp_path):
    root = write_ucit(tmp_path / "ucit")
    stream = get_stream("ucit", data_root=str(root), n_train=0, n_eval=0)
    assert stream.names == ["imagenet_r", "arxivqa", "vizwiz_caption", "iconqa", "clevr_math", "flickr30k"]
    vizwiz, flickr = stream.tasks[2], stream.tasks[5]
    # test answers are the COCO annotation's references of image_id row + 1; train answers the row's one caption
    assert vizwiz.eval["answer"] == CAPTION_REFERENCES["vizwiz_caption"]
    assert flickr.eval["answer"] == CAPTION_REFERENCES["flickr30k"]
    assert sorted(flickr.train["answer"]) == [["Two friends talk outside a house."],
                                              ["Two young men stand in a yard."]]
    assert vizwiz.eval[0]["image"] is not None


@pytest.mark.skipif(not JAVA, reason="the caption metric's PTBTokenizer needs Java")
def test_caption_metric_is_cider_d_over_the_whole_reference_file(tmp_path):
    root = write_ucit(tmp_path / "ucit")
    vizwiz = get_stream("ucit", data_root=str(root), n_train=0, n_eval=0).tasks[2]
    metric = vizwiz.metric_function()
    row = vizwiz.eval[0]
    completions = [f"<answer>{row['answer'][1]}</answer>", "no answer tags", "<answer>a soup can</answer>"]
    scores = metric(completions, answer=[row["answer"]] * 3, task=["vizwiz_caption"] * 3)
    # The reference: COCOEvalCap's steps (PTBTokenizer, then Cider) on the whole file, both test images. Scored alone
    # an image would have log N = 0 and score 0; the metric uses the df of the whole reference file.
    references = CAPTION_REFERENCES["vizwiz_caption"]
    k = references.index(row["answer"]) + 1
    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({i + 1: [{"caption": c} for c in refs] for i, refs in enumerate(references)})
    for hypothesis, score in zip([row["answer"][1], "a soup can"], [scores[0], scores[2]], strict=True):
        res = tokenizer.tokenize({i: [{"caption": hypothesis if i == k else "a photo"}] for i in gts})
        per_image = Cider().compute_score(gts, res)[1]
        assert score == pytest.approx(per_image[list(gts).index(k)] / 10, abs=1e-12)
    assert scores[1] == 0.0 and 0.0 < scores[2] < scores[0] <= 1.0


def test_mllm_cl_ability_refuses_the_gui_task_unless_verifiable_only(tmp_path):
    root = write_release(tmp_path / "ability", ABILITY)
    with pytest.raises(StreamSpecError) as error:
        get_stream("mllm_cl_ability", data_root=str(root), n_train=0, n_eval=0)
    message = str(error.value)
    assert "\n" not in message
    assert "task 'gui' cannot be scored offline" in message and "MMT-Bench evaluation server" in message
    assert "--verifiable_only true" in message
    stream = get_stream("mllm_cl_ability", data_root=str(root), n_train=0, n_eval=0, verifiable_only=True)
    assert stream.names == ["ocr", "math", "perception"]


def test_verifiable_only_travels_from_the_command_line(tmp_path):
    root = write_release(tmp_path / "ability", ABILITY)
    parser = HfArgumentParser(StreamArguments)
    (args,) = parser.parse_args_into_dataclasses(["--stream", "mllm_cl_ability", "--data_root", str(root),
                                                  "--n_train", "0", "--verifiable_only", "true"])
    assert get_stream(args.stream, **args.stream_kwargs()).names == ABILITY_VERIFIABLE
    (default,) = parser.parse_args_into_dataclasses(["--stream", "mllm_cl_ability", "--data_root", str(root)])
    with pytest.raises(StreamSpecError, match="--verifiable_only true"):
        get_stream(default.stream, **default.stream_kwargs())
    assert get_stream("embedded", n_train=2, n_eval=2, verifiable_only=True).names == ["colour", "digit_0_4",
                                                                                       "digit_5_9"]


def test_a_copy_without_offline_false_reports_the_missing_answer_key(tmp_path):
    from task_streams.data_error import DataError

    root = write_release(tmp_path / "ability", ABILITY)
    data = yaml.safe_load((STREAMS_DIR / "mllm_cl_ability.yaml").read_text())
    for task in data["tasks"]:
        task.pop("offline", None)
        task.pop("reason", None)
    copy = tmp_path / "ability_copy.yaml"
    copy.write_text(yaml.safe_dump(data))
    with pytest.raises(DataError, match=r"APP_test/test.json, row 0, field 'answer': missing answer"):
        get_stream(str(copy), data_root=str(root), n_train=0, n_eval=0)


def test_a_caption_annotation_out_of_step_with_its_test_file_names_the_row(tmp_path):
    from task_streams.data_error import DataError

    root = write_ucit(tmp_path / "ucit")
    test_file = root / UCIT["vizwiz_caption"].eval_file
    test_file.write_text(json.dumps(json.loads(test_file.read_text())[::-1]))  # rows reordered, annotation not
    with pytest.raises(DataError, match=r"test_3000.json, row 0, field 'image': .* is not image_id 1"):
        get_stream("ucit", data_root=str(root), n_train=0, n_eval=0)


def test_worked_solutions_give_their_final_answer(tmp_path):
    root = write_release(tmp_path / "ability", ABILITY)
    math = get_stream("mllm_cl_ability", data_root=str(root), n_train=0, n_eval=0, verifiable_only=True).tasks[1]
    assert sorted(math.train["answer"]) == ["$38.51", "A"]
    reward = math.reward_functions()[0][0]
    assert reward(["<answer>38.51</answer>", "<answer>B</answer>"], answer=["$38.51", "A"]) == [1.0, 0.0]


def test_a_worked_solution_without_a_final_answer_names_its_row(tmp_path):
    from task_streams.data_error import DataError

    math = ABILITY["math"]
    broken = dataclasses.replace(math, train=[*math.train, ("images/x.png", "Solve it.", "I think it is large.")])
    root = write_release(tmp_path / "ability", {**ABILITY, "math": broken})
    with pytest.raises(DataError, match=r"Math/train.json, row 2, field 'answer': no final answer matching"):
        get_stream("mllm_cl_ability", data_root=str(root), n_train=0, n_eval=0, verifiable_only=True)
