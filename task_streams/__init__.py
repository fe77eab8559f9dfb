"""Continual-learning task streams: ordered tasks with train/eval data and verifiable rewards."""

from task_streams import embedded as _embedded  # noqa: F401  (registers)
from task_streams.base import (
    SYSTEM_PROMPT,
    Task,
    TaskStream,
    available_streams,
    get_stream,
    make_prompt,
    register_stream,
)


__all__ = ["SYSTEM_PROMPT", "Task", "TaskStream", "available_streams", "get_stream", "make_prompt", "register_stream"]
