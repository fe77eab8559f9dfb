"""Verifiable reward functions with TRL's signature: ``fn(completions, **kwargs) -> list[float | None]``.

``get(name)`` returns a built-in by name (``available()`` lists them) or a user's function named as
``package.module:function`` or ``path/to/file.py:function``; ``task_rewards`` routes a task's rewards in mixed batches.
"""

from reward_fns import anls as _anls  # noqa: F401  (each import registers its rewards)
from reward_fns import caption as _caption  # noqa: F401
from reward_fns import exact_match as _exact_match  # noqa: F401
from reward_fns import format as _format  # noqa: F401
from reward_fns import iou as _iou  # noqa: F401
from reward_fns import math_equivalence as _math_equivalence  # noqa: F401
from reward_fns import multiple_choice as _multiple_choice  # noqa: F401
from reward_fns import numeric as _numeric  # noqa: F401
from reward_fns import overlong as _overlong  # noqa: F401
from reward_fns import vqa_accuracy as _vqa_accuracy  # noqa: F401
from reward_fns.registry import available, get, register_reward, resolve
from reward_fns.routing import ON_ERROR, RewardError, RewardSpec, TaskReward, score, task_reward, task_rewards


__all__ = ["ON_ERROR", "RewardError", "RewardSpec", "TaskReward", "available", "get", "register_reward", "resolve",
           "score", "task_reward", "task_rewards"]
