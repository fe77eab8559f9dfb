"""The embedded colour → shape → digit stream."""

from PIL import Image

import reward_fns
from task_streams import available_streams, get_stream


def test_stream_tasks_prompts_and_answers():
    stream = get_stream("embedded", n_train=20, n_eval=10, seed=0)
    assert "embedded" in available_streams()
    assert stream.names == ["colour", "digit_0_4", "digit_5_9"]
    for task in stream:
        assert len(task.train) == 20 and len(task.eval) == 10
        row = task.train[0]
        assert isinstance(row["image"], Image.Image) and row["image"].size == (64, 64)
        assert row["answer"] in task.labels and row["task"] == task.name
        user = row["prompt"][-1]
        assert user["role"] == "user" and user["content"][0]["type"] == "image"
        assert set(task.eval["answer"]) <= set(task.labels)
    assert [t.chance for t in stream] == [12.5, 20.0, 20.0]
    assert set(stream.tasks[1].train["answer"]).isdisjoint(stream.tasks[2].train["answer"])


def test_each_task_scores_right_answer_1_and_wrong_answer_0():
    for task in get_stream("embedded", n_train=4, n_eval=4):
        metric = reward_fns.get(task.metric)
        truth = task.eval["answer"]
        wrong = [next(label for label in task.labels if label != a) for a in truth]
        assert metric([f"<answer>{a}</answer>" for a in truth], answer=truth) == [1.0] * 4
        assert metric([f"<answer>{w}</answer>" for w in wrong], answer=truth) == [0.0] * 4


def test_sampling_is_seeded():
    a = get_stream("embedded", n_train=10, n_eval=5, seed=3).tasks[0].train["answer"]
    b = get_stream("embedded", n_train=10, n_eval=5, seed=3).tasks[0].train["answer"]
    c = get_stream("embedded", n_train=10, n_eval=5, seed=4).tasks[0].train["answer"]
    assert a == b and a != c
