"""Continual-learning task streams: ordered tasks with train/eval data and verifiable rewards."""

from task_streams import digit_reasoning as _digit_reasoning  # noqa: F401  (registers)
from task_streams import embedded as _embedded  # noqa: F401  (registers)
from task_streams import shipped as _shipped  # noqa: F401  (registers the shipped stream files)
from task_streams.base import (
    SYSTEM_PROMPT,
    Task,
    TaskStream,
    available_streams,
    get_stream,
    is_stream_file,
    make_prompt,
    register_stream,
)


__all__ = ["SYSTEM_PROMPT", "Task", "TaskStream", "available_streams", "get_stream", "is_stream_file", "make_prompt",
           "register_stream"]
