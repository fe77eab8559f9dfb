"""UCIT and MLLM-CL streams read from their released layouts: prompts, per-split image roots, extracted final
answers, and each task's metric and reward scoring a right answer 1 and a wrong one 0."""

from __future__ import annotations

import pytest
from llava_fixture import write_release
from other_fixtures import ABILITY, DOMAIN, UCIT

from task_streams import get_stream


STREAMS = {"ucit": UCIT, "mllm_cl_domain": DOMAIN, "mllm_cl_ability": ABILITY}


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_stream_reads_its_release(tmp_path, name):
    fixture = STREAMS[name]
    root = write_release(tmp_path / name, fixture)
    stream = get_stream(name, data_root=str(root), n_train=0, n_eval=0)
    assert stream.names == list(fixture)
    for task, spec in zip(stream, fixture.values(), strict=True):
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


def test_worked_solutions_give_their_final_answer(tmp_path):
    root = write_release(tmp_path / "ability", ABILITY)
    math = get_stream("mllm_cl_ability", data_root=str(root), n_train=0, n_eval=0).tasks[1]
    assert sorted(math.train["answer"]) == ["$38.51", "A"]
    reward = math.reward_functions()[0][0]
    assert reward(["<answer>38.51</answer>", "<answer>B</answer>"], answer=["$38.51", "A"]) == [1.0, 0.0]


def test_a_worked_solution_without_a_final_answer_names_its_row(tmp_path):
    import dataclasses

    from task_streams.data_error import DataError

    math = ABILITY["math"]
    broken = dataclasses.replace(math, train=[*math.train, ("images/x.png", "Solve it.", "I think it is large.")])
    root = write_release(tmp_path / "ability", {**ABILITY, "math": broken})
    with pytest.raises(DataError, match=r"Math/train.json, row 2, field 'answer': no final answer matching"):
        get_stream("mllm_cl_ability", data_root=str(root), n_train=0, n_eval=0)
