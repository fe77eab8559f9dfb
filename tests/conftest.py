"""Shared fixtures: the embedded tiny VLM (built offline once per machine) and a 2-task slice of the stream."""

from __future__ import annotations

import warnings

import pytest


@pytest.fixture(scope="session")
def tiny_model_path() -> str:
    from rdbcl.models.tiny_vlm import ensure_tiny_vlm

    path, _ = ensure_tiny_vlm()
    return str(path)


@pytest.fixture(scope="session")
def two_task_stream():
    from task_streams import TaskStream, get_stream

    stream = get_stream("embedded", n_train=64, n_eval=8, seed=0)
    return TaskStream("embedded", stream.tasks[:2])


@pytest.fixture(scope="session")
def model_family(tmp_path_factory):
    """``model_family(name)``: the directory of a tiny random checkpoint of a model family (``FAMILIES`` in
    tests/model_families.py), built offline on first request and reused for the rest of the session."""
    from model_families import FAMILIES

    built: dict[str, str] = {}

    def path(name: str) -> str:
        if name not in built:
            built[name] = str(FAMILIES[name](tmp_path_factory.mktemp(name)))
        return built[name]

    return path


@pytest.fixture(scope="session")
def mini_reasoning_base(tmp_path_factory) -> str:
    """The reasoning testbed's π₀ built by its real builder with a few rows and steps (the real one takes minutes),
    once per session; tests put it in place of ``rdbcl.models.loading.EMBEDDED_MODELS["reasoning"]``."""
    from rdbcl.testbed.reasoning_base import ReasoningBaseRecipe, ensure_reasoning_base
    from task_streams.digit_reasoning import FoundationMix

    mini = ReasoningBaseRecipe(mix=FoundationMix(n_read=32, n_image_ops=16, n_open=16, n_symbol=32, n_named=8,
                                                 text_repeats=1),
                               vision_steps=5, vision_rows=64, vision_batch_size=16, steps=6, batch_size=8,
                               warmup_steps=0, skill_rows=4)
    with warnings.catch_warnings():  # six steps learn no skill; the build says so (tested in test_reasoning_base)
        warnings.filterwarnings("ignore", message="π₀ missed skills")
        path, _ = ensure_reasoning_base(mini, tmp_path_factory.mktemp("reasoning_base"))
    return str(path)
