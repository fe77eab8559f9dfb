"""Every shipped recipe run in miniature through the real ``StreamRunner``: the recipe's own method and settings,
with its model swapped for the tiny random checkpoint of its family (tests/model_families.py), its stream for a
miniature of the same stream (CoIN: a miniature copy of the release, tests/task_streams/coin_fixture.py), the first
two tasks, 2 steps a task and a few rows, then the accuracy matrix checked for its shape.

Device: CPU in fp32 by default; ``RDBCL_TEST_DEVICE=cuda`` runs every recipe on the GPU in bf16 (as the recipes
ask), and ``RDBCL_TEST_VLLM=1`` adds TRL's vLLM colocate rollouts to the RL recipes (launch/scripts/gpu_check.sh
sets both where they apply). The reasoning testbed's recipes start from a miniature π₀ (the ``mini_reasoning_base``
fixture of tests/conftest.py), never the real one, which takes minutes to build.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest
import yaml

import rdbcl.models.loading
from rdbcl.methods import available_methods, get_method
from rdbcl.methods.grpo import GRPOMethod
from rdbcl.run.loop import StreamRunner
from rdbcl.train import parse_args
from task_streams import get_stream


sys.path.insert(0, str(Path(__file__).resolve().parent / "task_streams"))
from coin_fixture import write_coin  # noqa: E402
from suite_recipes import RECIPES as RECIPES_DIR  # noqa: E402
from suite_recipes import TEST_DEVICE, device_args  # noqa: E402


RECIPES = sorted(RECIPES_DIR.rglob("*.yaml"))
# the hub id a GPU recipe names → the tiny family of tests/model_families.py that stands in for it
FAMILY = {"Qwen/Qwen2.5-VL-3B-Instruct": "qwen2_5_vl", "llava-hf/llava-1.5-7b-hf": "llava"}
VLLM = os.environ.get("RDBCL_TEST_VLLM", "") == "1"
TASKS = 2
RL_METHODS = {name for name in available_methods() if issubclass(get_method(name), GRPOMethod)}  # rollouts


def _device_args(raw: dict) -> list[str]:
    """fp32 on CPU, bf16 on CUDA (``RDBCL_TEST_DEVICE``); vLLM colocate rollouts for the RL recipes with
    ``RDBCL_TEST_VLLM=1`` on CUDA, otherwise none (whatever the recipe asks)."""
    if TEST_DEVICE == "cuda" and VLLM and raw["method"] in RL_METHODS:
        vllm = ["--use_vllm", "true", "--vllm_mode", "colocate", "--vllm_gpu_memory_utilization", "0.2"]
    else:
        vllm = ["--use_vllm", "false"]
    return [*device_args(), *vllm]


def _miniature(raw: dict) -> list[str]:
    """The recipe's budget cut to a few rows and steps; its method and method settings stay."""
    args = ["--max_steps", "2", "--gradient_accumulation_steps", "1", "--per_device_train_batch_size", "2",
            "--num_generations", "2", "--max_completion_length", "4", "--eval_batch_size", "4",
            "--eval_max_new_tokens", "4", "--n_train", "4", "--n_eval", "2", "--logging_steps", "1",
            "--warmup_steps", "0", "--report_to", "none", "--fisher_batches", "1"]
    if raw.get("warm_start_steps"):  # keep the phase, one step of it
        args += ["--warm_start_steps", "1", "--warm_start_batch_size", "2"]
    return args


@pytest.fixture(scope="module")
def coin_root(tmp_path_factory) -> str:
    return str(write_coin(tmp_path_factory.mktemp("coin")))


@pytest.mark.filterwarnings("ignore:.*torchvision is not installed")
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: str(p.relative_to(RECIPES_DIR)))
def test_recipe_runs_in_miniature(recipe, tmp_path, request, monkeypatch):
    raw = yaml.safe_load(recipe.read_text())
    argv = ["--config", str(recipe), *_miniature(raw), *_device_args(raw), "--output_dir", str(tmp_path / "run")]
    model = raw.get("model_name_or_path")
    if model:
        assert model in FAMILY, f"{recipe.name}: no tiny family stands in for {model!r}; add it to FAMILY"
        argv += ["--model_name_or_path", request.getfixturevalue("model_family")(FAMILY[model])]
    if raw["stream"] == "coin":  # CoIN's released files, in miniature
        argv += ["--data_root", request.getfixturevalue("coin_root")]
    if raw["stream"] == "digit_reasoning" and not model:  # the stream's own base π₀, in miniature
        base = request.getfixturevalue("mini_reasoning_base")
        monkeypatch.setitem(rdbcl.models.loading.EMBEDDED_MODELS, "reasoning",
                            rdbcl.models.loading.EmbeddedModel(lambda: Path(base), lambda: (base, 0.0)))
    stream_args, args, model_args = parse_args(argv)
    assert (args.method, stream_args.stream) == (raw["method"], raw["stream"])  # the recipe's own, unchanged
    full = get_stream(stream_args.stream, **stream_args.stream_kwargs())
    stream = dataclasses.replace(full, tasks=full.tasks[:TASKS])

    results = StreamRunner(stream_args, args, model_args, stream=stream).run()

    assert results["complete"]
    if model:  # trained the tiny stand-in, never the hub id
        assert results["model_args"]["resolved_model"] == model_args.model_name_or_path != model
    assert [len(row) for row in results["acc"]] == [TASKS] * TASKS  # acc[t][k]: after task t, on task k
    rows = results["acc"] + ([results["zero_shot"]] if args.eval_before_stream else [])
    assert all(0.0 <= x <= 100.0 for row in rows for x in row)
    if args.eval_before_stream:
        assert len(results["zero_shot"]) == TASKS
    for task in results["tasks"]:  # each task trained its 2 steps
        assert sum(1 for e in task["train_log"] if "loss" in e) == 2, task["name"]
