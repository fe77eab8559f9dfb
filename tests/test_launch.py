"""Launch files: every accelerate config loads as accelerate reads it, the scripts are valid bash, and the TRL
vLLM flags the scripts pass parse as rdbcl-train arguments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from accelerate.commands.config.config_args import load_config_from_file
from suite_recipes import EMBEDDED


LAUNCH = Path(__file__).resolve().parents[1] / "launch"
EXPECTED = {"single_gpu": ("NO", 1), "multi_gpu": ("MULTI_GPU", 8), "cpu_2proc": ("MULTI_GPU", 2),
            "deepspeed_zero2": ("DEEPSPEED", 8), "deepspeed_zero3": ("DEEPSPEED", 8), "fsdp": ("FSDP", 8)}


def test_every_accelerate_config_loads():
    found = {p.stem for p in (LAUNCH / "accelerate").glob("*.yaml")}
    assert found == set(EXPECTED)
    for name, (kind, processes) in EXPECTED.items():
        config = load_config_from_file(str(LAUNCH / "accelerate" / f"{name}.yaml"))
        assert (config.distributed_type.value, config.num_processes) == (kind, processes)
    assert load_config_from_file(str(LAUNCH / "accelerate" / "deepspeed_zero3.yaml")).deepspeed_config[
        "zero_stage"] == 3


@pytest.mark.parametrize("script", sorted(p.name for p in (LAUNCH / "scripts").glob("*.sh")))
def test_scripts_are_valid_bash(script):
    assert subprocess.run(["bash", "-n", str(LAUNCH / "scripts" / script)]).returncode == 0


def test_vllm_flags_of_the_scripts_parse(tmp_path):
    from rdbcl.train import parse_args

    for mode in (["--vllm_mode", "colocate", "--vllm_gpu_memory_utilization", "0.3"],
                 ["--vllm_mode", "server", "--vllm_server_port", "8000"]):
        _, args, _ = parse_args([*EMBEDDED, "--max_steps", "1", "--output_dir", str(tmp_path), "--use_vllm", "true",
                                 *mode])
        assert args.use_vllm and args.vllm_mode == mode[1]


def test_gpu_check_refuses_without_cuda_in_one_line():
    # CUDA hidden, so the check refuses here even on a GPU machine instead of running it
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(LAUNCH / "scripts" / "gpu_check.sh")], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 2
    assert (result.stdout + result.stderr).splitlines() == [
        "gpu_check: no CUDA device (torch.cuda.is_available() is False); run it on a machine with a GPU"]
