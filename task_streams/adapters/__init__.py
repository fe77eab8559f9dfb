"""Adapters: each reads one benchmark family's *released* format and yields raw samples (question, image, answer)."""

from task_streams.adapters.base import ADAPTERS, Adapter, RawSample, register_adapter
from task_streams.adapters.llava import LlavaAdapter
from task_streams.adapters.llava_caption import LlavaCaptionAdapter
from task_streams.adapters.reasoning_gym import ReasoningGymAdapter


__all__ = ["ADAPTERS", "Adapter", "LlavaAdapter", "LlavaCaptionAdapter", "RawSample", "ReasoningGymAdapter",
           "register_adapter"]
