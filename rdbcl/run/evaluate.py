"""Evaluation: batched greedy generation scored with the task's verifiable metric (the same function as its reward)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accelerate import PartialState
from accelerate.utils import gather_object
from tqdm.auto import tqdm

import reward_fns
from rdbcl.models.generation import generate_answers


if TYPE_CHECKING:
    from task_streams import Task


def evaluate_task(model, processor, task: Task, batch_size: int = 50, max_new_tokens: int = 16,
                  desc: str | None = None, on_error: str = "raise") -> dict:
    """Accuracy (percent) of ``model`` on ``task.eval`` under the task's metric, every row's score (``scores``, in row
    order) and a few sample predictions.

    The metric gets what a reward gets in training (prompts, completion ids, every column), so custom metrics work.
    A batch may mix image and text-only rows (``image`` None): it is generated as one batch, rows in order.
    With several processes each scores a contiguous shard of the rows and the scores are gathered in row order, so
    every row is scored exactly once and every process returns the same accuracy.
    """
    state = PartialState()
    metric = task.metric_function(on_error)
    was_training = model.training
    model.eval()
    data = task.eval
    with state.split_between_processes(list(range(len(data)))) as shard:
        rows = data.select(shard)
    scores: list[float] = []
    samples: list[dict] = []
    for start in tqdm(range(0, len(rows), batch_size), desc=desc or f"eval {task.name}", leave=False,
                      disable=not state.is_local_main_process):
        batch = rows[start:start + batch_size]
        completions, ids = generate_answers(model, processor, batch["prompt"], batch.get("images", batch.get("image")),
                                            max_new_tokens, return_ids=True)
        batch_scores = reward_fns.score(metric, completions=completions, completion_ids=ids,
                                        prompts=batch["prompt"], **{k: v for k, v in batch.items() if k != "prompt"})
        scores.extend(0.0 if s is None else float(s) for s in batch_scores)
        if len(samples) < 5:
            samples.extend({"completion": c, "answer": a, "score": s}
                           for c, a, s in zip(completions, batch["answer"], batch_scores, strict=True))
    model.train(was_training)
    if state.num_processes > 1:
        scores = gather_object(scores)
    return {"accuracy": 100.0 * sum(scores) / max(len(scores), 1), "n": len(scores), "samples": samples[:5],
            "scores": scores}
