"""Format reward: the completion is an optional ``<think>…</think>`` then exactly one ``<answer>…</answer>``."""

from __future__ import annotations

from reward_fns.parsing import FORMAT_RE, completion_text
from reward_fns.registry import register_reward


@register_reward("format")
def format_reward(completions: list, **kwargs) -> list[float]:
    """1.0 for a well-formed completion, else 0.0.

    >>> format_reward(["<think>red pixels</think><answer>red</answer>", "red"])
    [1.0, 0.0]
    """
    return [1.0 if FORMAT_RE.match(completion_text(c)) else 0.0 for c in completions]
