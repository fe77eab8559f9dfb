"""Tasks whose rows mix image and text-only questions, made from a task with an image on every row (the layout of
CoIN's ScienceQA, which has both)."""

from __future__ import annotations

import dataclasses

from datasets import Dataset

from task_streams import Task, make_prompt


def text_only_odd_rows(data: Dataset) -> Dataset:
    """Rows 1, 3, 5, … lose their image: ``image`` None and a prompt without an image part, as a text-only row of a
    released mixed task is built (``task_streams.yaml_stream``)."""

    def drop(row: dict, i: int) -> dict:
        if i % 2 == 0:
            return {}
        system, user = row["prompt"]
        return {"prompt": make_prompt(user["content"][-1]["text"], system["content"][0]["text"], image=False),
                "image": None}

    return data.map(drop, with_indices=True)


def mixed(task: Task, n_train: int) -> Task:
    """The task's first ``n_train`` training rows and its eval rows, every odd row text-only."""
    return dataclasses.replace(task, train=text_only_odd_rows(task.train.select(range(n_train))),
                               eval=text_only_odd_rows(task.eval))
