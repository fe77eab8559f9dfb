"""Verifiable reward functions with TRL's signature: ``fn(completions, **kwargs) -> list[float | None]``."""

from reward_fns import exact_match as _exact_match  # noqa: F401  (registers)
from reward_fns import format as _format  # noqa: F401  (registers)
from reward_fns.registry import available, get, register_reward


__all__ = ["available", "get", "register_reward"]
