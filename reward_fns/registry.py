"""Name → reward function registry, with `package.module:function` and `path/file.py:function` fallbacks."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys
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


def _load_file(path: Path, spec: str):
    if not path.is_file():
        raise FileNotFoundError(f"Reward file {str(path)!r} (from {spec!r}) does not exist.")
    module_name = f"reward_fns_user.{path.stem}_{abs(hash(str(path.resolve())))}"
    if module_name not in sys.modules:  # load each file once, so its module-level state is shared
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        sys.modules[module_name] = module
    return sys.modules[module_name]


def resolve(spec: str) -> RewardFunc:
    """The function named by ``spec``: a registry name, ``package.module:function`` or ``path/to/file.py:function``."""
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    if ":" not in spec:
        raise KeyError(f"Unknown reward {spec!r}. Built-in rewards: {', '.join(available())}; "
                       "or name one as 'package.module:function' or 'path/to/file.py:function'.")
    target, _, attr = spec.rpartition(":")
    module = _load_file(Path(target), spec) if target.endswith(".py") else importlib.import_module(target)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise AttributeError(f"{spec!r}: {target} has no callable named {attr!r}.")
    return fn


def get(spec: str, **params) -> RewardFunc:
    """Resolve a reward by name (see ``resolve``), with ``params`` bound as keyword arguments.

    Unknown parameter names fail here, not at the first training step; so do values the function's own
    ``check_params(**params)`` hook (an optional attribute, e.g. ``iou.check_params``) refuses with a ``ValueError``.

    >>> get("numeric", rel_tol=0.05)(["<answer>103</answer>"], answer=["100"])
    [1.0]
    """
    fn = resolve(spec)
    if not params:
        return fn
    accepted = inspect.signature(fn).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    named = {n for n, p in accepted.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    unknown = sorted(set(params) - named) if not takes_any or spec in _REGISTRY else []
    if unknown:
        raise TypeError(f"Reward {spec!r} has no parameter(s) {unknown}; it accepts {sorted(named)}.")
    check = getattr(fn, "check_params", None)
    if callable(check):
        check(**params)
    bound = functools.partial(fn, **params)
    functools.update_wrapper(bound, fn)  # keeps __name__ (TRL's metric name) and the docstring
    return bound
