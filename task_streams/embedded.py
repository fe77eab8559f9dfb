"""The embedded default stream, built offline from data that pip packages ship.

colour (easy-vqa: the colour of a shape) → digits 0–4 → digits 5–9 (scikit-learn's 8×8 handwritten digits,
upscaled to 64×64; the split-digits protocol of continual learning). Each task is a closed set of one-word answers,
so its chance level is known and learning is visible. easy-vqa's shape and yes/no questions were tried as tasks and
left out: the embedded tiny model stays near chance on them within the default run's budget.
"""

from __future__ import annotations

import random

from datasets import Dataset, Features, Image, Value
from PIL import Image as PILImage

from task_streams.base import Task, TaskStream, make_prompt, register_stream


COLOURS = ["red", "green", "blue", "black", "gray", "teal", "brown", "yellow"]
DIGITS_LOW = [str(d) for d in range(5)]
DIGITS_HIGH = [str(d) for d in range(5, 10)]
# The prompt (``SYSTEM_PROMPT``) asks for the answer, with reasoning only "if needed": the format reward accepts a
# missing <think> block, as its `think: optional` is for.
REWARDS = ("exact_match", {"name": "format", "params": {"think": "optional"}})
DIGIT_QUESTIONS = {"digit_0_4": "which digit from 0 to 4 is shown?", "digit_5_9": "which digit from 5 to 9 is shown?"}


def _features() -> Features:
    message = {"role": Value("string"), "content": [{"type": Value("string"), "text": Value("string")}]}
    return Features({"prompt": [message], "image": Image(), "answer": Value("string"), "task": Value("string")})


def _to_dataset(rows: list[tuple[str, object, str]], task: str) -> Dataset:
    data = {"prompt": [], "image": [], "answer": [], "task": []}
    for question, image, answer in rows:
        data["prompt"].append(make_prompt(question))
        data["image"].append(image)
        data["answer"].append(answer)
        data["task"].append(task)
    return Dataset.from_dict(data, features=_features())


def _easy_vqa_rows(split: str, labels: list[str]) -> list[tuple[str, str, str]]:
    import easy_vqa

    if split == "train":
        questions, answers, image_ids = easy_vqa.get_train_questions()
        paths = easy_vqa.get_train_image_paths()
    else:
        questions, answers, image_ids = easy_vqa.get_test_questions()
        paths = easy_vqa.get_test_image_paths()
    wanted = set(labels)
    return [(q, paths[i], a) for q, a, i in zip(questions, answers, image_ids, strict=True) if a in wanted]


def _digit_rows(split: str, size: int, labels: list[str], question: str) -> list[tuple[str, PILImage.Image, str]]:
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    cut = int(0.8 * len(order))
    idx = order[:cut] if split == "train" else order[cut:]
    rows = []
    for i in idx:
        if str(int(digits.target[i])) not in labels:
            continue
        pixels = (digits.images[i] * (255.0 / 16.0)).astype("uint8")
        image = PILImage.fromarray(pixels, mode="L").resize((size, size), PILImage.NEAREST).convert("RGB")
        rows.append((question, image, str(int(digits.target[i]))))
    return rows


def _sample(rows: list, n: int, seed: int) -> list:
    rng = random.Random(seed)
    rows = list(rows)
    rng.shuffle(rows)
    return rows if n <= 0 else rows[:n]


@register_stream("embedded")
def embedded_stream(n_train: int = 2000, n_eval: int = 100, seed: int = 0, image_size: int = 64,
                    data_root: str | None = None, skip_invalid: bool | None = None,
                    verifiable_only: bool = False) -> TaskStream:
    """Build the embedded colour → digits 0–4 → digits 5–9 stream.

    Args:
        n_train: training rows per task (≤ 0 for all).
        n_eval: held-out evaluation rows per task, from each source's test split.
        seed: sampling seed.
        image_size: side of the digit images in pixels (easy-vqa images are 64×64).
        data_root: unused (the data ships with pip packages).
        skip_invalid: unused (every built row is valid).
        verifiable_only: no effect (every task is verifiable).
    """
    specs = [
        ("colour", COLOURS, lambda split: _easy_vqa_rows(split, COLOURS)),
        *[(name, labels, lambda split, ls=labels, q=DIGIT_QUESTIONS[name]: _digit_rows(split, image_size, ls, q))
          for name, labels in (("digit_0_4", DIGITS_LOW), ("digit_5_9", DIGITS_HIGH))],
    ]
    tasks = []
    for k, (name, labels, rows) in enumerate(specs):
        tasks.append(Task(
            name=name,
            train=_to_dataset(_sample(rows("train"), n_train, seed + k), name),
            eval=_to_dataset(_sample(rows("test"), n_eval, 1000 + k), name),
            labels=labels,
            rewards=list(REWARDS),
        ))
    return TaskStream("embedded", tasks)
