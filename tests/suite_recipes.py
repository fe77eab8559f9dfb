"""The recipes the suite's runs parse their arguments on top of.

Tests name their base recipe instead of relying on the default one (``rdbcl-train`` with no ``--config``): the
default is the reasoning testbed, whose pretrained π₀ takes minutes to build, while most tests need the embedded
stream's tiny random VLM and its colour/digits tasks.
"""

import os
from pathlib import Path


RECIPES = Path(__file__).resolve().parents[1] / "launch" / "recipes"
# grpo on the embedded stream (seed 0, tiny random VLM); tests set --method and the budget
EMBEDDED = ["--config", str(RECIPES / "embedded" / "rl.yaml")]

# RDBCL_TEST_DEVICE=cuda (set by launch/scripts/gpu_check.sh): the runs of tests that opt in (the model families',
# every recipe in miniature) go to the GPU in bf16, as the GPU recipes ask; unset or `cpu`: CPU in fp32, the default.
TEST_DEVICE = os.environ.get("RDBCL_TEST_DEVICE", "cpu")


def device_args() -> list[str]:
    """``rdbcl-train`` arguments for the test device: fp32 on CPU, bf16 on CUDA (refused if torch sees no GPU)."""
    if TEST_DEVICE == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("RDBCL_TEST_DEVICE=cuda, but torch sees no CUDA device")
        return ["--dtype", "bfloat16", "--bf16", "true"]
    if TEST_DEVICE != "cpu":
        raise ValueError(f"RDBCL_TEST_DEVICE: 'cpu' or 'cuda', got {TEST_DEVICE!r}")
    return ["--dtype", "float32", "--bf16", "false"]
