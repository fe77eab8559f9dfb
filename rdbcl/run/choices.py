"""The names a recipe picks from the registries of the layers below it (methods, RP estimators, β schedules and
directions, reasoning spans, replay strategies), checked before anything is trained or written.

They are checked here, not in ``rdbcl.config``: the configuration is the bottom layer, which every trainer and method
imports, so it cannot import them in turn.
"""

from __future__ import annotations

from rdbcl.config import ContinualConfig


def _registered() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Field → (what it names, the names registered for it)."""
    from rdbcl.methods import available_methods
    from rdbcl.methods.replay_buffer import STRATEGIES
    from rdbcl.rl.kl import DIRECTIONS, SCHEDULES
    from rdbcl.rl.portability import available_estimators
    from rdbcl.rl.reasoning_span import SPANS

    return {"method": ("method", tuple(available_methods())),
            "rp_estimator": ("estimator", tuple(available_estimators())),
            "beta_schedule": ("schedule", tuple(SCHEDULES)),
            "beta_direction": ("direction", tuple(DIRECTIONS)),
            "rp_span": ("span", tuple(SPANS)),
            "replay_strategy": ("strategy", tuple(STRATEGIES))}


def check_choices(args: ContinualConfig) -> None:
    """Raise ``ValueError`` naming the field when ``args`` picks a name that nothing registered."""
    for name, (what, allowed) in _registered().items():
        value = getattr(args, name)
        if value not in allowed:
            raise ValueError(f"{name}: unknown {what} {value!r}; choose one of {list(allowed)}.")
