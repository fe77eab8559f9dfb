"""Shared fixtures: the embedded tiny VLM (built offline once per machine) and a 2-task slice of the stream."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_model_path() -> str:
    from rdbcl.tiny_vlm import ensure_tiny_vlm

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
