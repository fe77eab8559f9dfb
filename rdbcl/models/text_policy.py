"""A text-only causal LM as the policy: the tasks it cannot take (those with images), and the rows as it reads them.

A stream's prompts hold each message's content as a list of parts (``{"type": "text", …}``, ``{"type": "image"}``),
the layout vision-language processors render. TRL turns plain-string contents into parts for a VLM, but hands a
text-only model's conversations to its tokenizer's chat template as they are, and many LM templates read a content
as one string only (Qwen2.5's fails on a list, Qwen3's renders it empty). A text-only policy therefore gets its rows
with string contents: the text layout TRL's own text examples use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rdbcl.models.loading import TextOnlyModelError


if TYPE_CHECKING:
    from datasets import Dataset

    from task_streams import Task, TaskStream


def has_images(data: Dataset) -> bool:
    """Whether any row has an image: an ``image`` column with a non-null value (read from Arrow, nothing decoded)."""
    if "image" not in data.column_names:
        return False
    column = data.with_format("arrow")["image"]
    return column.null_count < len(column)


def image_tasks(tasks: Iterable[Task]) -> list[str]:
    """Names of the tasks with an image in their training or evaluation rows."""
    return [t.name for t in tasks if has_images(t.train) or has_images(t.eval)]


def plain_messages(messages: list[dict]) -> list[dict]:
    """The conversation with each all-text content as one string (its text parts joined).

    >>> plain_messages([{"role": "user", "content": [{"type": "text", "text": "2 + 3?"}]}])
    [{'role': 'user', 'content': '2 + 3?'}]
    """
    def plain(content):
        if isinstance(content, list) and all(part.get("type") == "text" for part in content):
            return "".join(part["text"] for part in content)
        return content

    return [{**message, "content": plain(message["content"])} for message in messages]


def _text_rows(data: Dataset) -> Dataset:
    if "image" in data.column_names:  # all None (checked): TRL's SFTTrainer refuses an `image` key for a tokenizer
        data = data.remove_columns("image")
    return data.map(lambda prompts: {"prompt": [plain_messages(p) for p in prompts]}, input_columns="prompt",
                    batched=True, desc="plain-text prompts")


def text_stream(stream: TaskStream, model: str) -> TaskStream:
    """The stream as the text-only ``model`` reads it: string prompt contents, no ``image`` column.

    Raises:
        TextOnlyModelError: a task (trained or held out) has an image, naming the tasks and the model.
    """
    refused = image_tasks(stream)
    if refused:
        raise TextOnlyModelError(
            f"task(s) {', '.join(map(repr, refused))} of stream {stream.name!r} have images, but model_name_or_path "
            f"{model!r} is a text-only language model, which cannot read them. Use a vision-language model, or a "
            "stream of text-only tasks.")
    tasks = [dataclasses.replace(t, train=_text_rows(t.train), eval=_text_rows(t.eval)) for t in stream]
    return dataclasses.replace(stream, tasks=tasks)
