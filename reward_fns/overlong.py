"""DAPO's soft overlong punishment: a length penalty that ramps down over the last ``cache_length`` tokens.

Definition: Yu et al., "DAPO" (arXiv:2503.14476), Eq. 13 — 0 for |y| ≤ L_max − L_cache, then linearly to −1 at
|y| = L_max, −1 beyond. TRL ships it (``trl.rewards.get_soft_overlong_punishment``); this wraps TRL's.
"""

from __future__ import annotations

from trl.rewards import get_soft_overlong_punishment

from reward_fns.parsing import completion_text
from reward_fns.registry import register_reward


@register_reward("overlong_penalty")
def overlong_penalty(completions: list, completion_ids: list | None = None, max_length: int = 512,
                     cache_length: int | None = None, **kwargs) -> list[float]:
    """Penalty in [−1, 0] by completion length in tokens. ``max_length`` is L_max (the training recipes set it to
    ``max_completion_length``); ``cache_length`` L_cache defaults to a fifth of it. Without token ids (plain text),
    lengths are counted in characters / 4, a rough stand-in.

    >>> overlong_penalty(["", "", "", ""], completion_ids=[[0] * 8, [0] * 9, [0] * 10, [0] * 11], max_length=10,
    ...                  cache_length=2)
    [0.0, -0.5, -1.0, -1.0]
    """
    cache = max(1, max_length // 5) if cache_length is None else int(cache_length)
    if not 0 < cache <= max_length:
        raise ValueError(f"overlong_penalty: need 0 < cache_length <= max_length, got {cache} and {max_length}.")
    if completion_ids is None:
        completion_ids = [[0] * (len(completion_text(c)) // 4) for c in completions]
    penalty = get_soft_overlong_punishment(max_completion_len=max_length, soft_punish_cache=cache)
    return [float(v) for v in penalty(completion_ids=completion_ids)]
