"""Name → reward function registry, with `package.module:function` and `path/file.py:function` fallbacks."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path


RewardFunc = Callable[..., list]
_REGISTRY: dict[str, RewardFunc] = {}


def register_reward(name: str) -> Callable[[RewardFunc], RewardFunc]:
    """Register a reward under ``name``; the name is also its ``__name__`` and hence its logged metric name."""

    def wrap(fn: RewardFunc) -> RewardFunc:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"A reward named {name!r} is already registered ({_REGISTRY[name]!r}).")
        fn.__name__ = name
        _REGISTRY[name] = fn
        return fn

    return wrap


def available() -> list[str]:
    return sorted(_REGISTRY)


def get(spec: str) -> RewardFunc:
    """Resolve a reward by registry name, ``package.module:function`` or ``path/to/file.py:function``."""
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    if ":" not in spec:
        raise KeyError(f"Unknown reward {spec!r}. Built-in rewards: {', '.join(available())}; "
                       "or name one as 'package.module:function' or 'path/to/file.py:function'.")
    target, _, attr = spec.rpartition(":")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise FileNotFoundError(f"Reward file {target!r} (from {spec!r}) does not exist.")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise AttributeError(f"{spec!r}: {target} has no callable named {attr!r}.")
    return fn
