#!/usr/bin/env bash
# Rollouts by vLLM inside the training processes (TRL's colocate mode): one GPU or more, no extra server.
#   bash launch/scripts/vllm_colocate.sh launch/recipes/qwen2.5-vl-3b/coin_grpo.yaml --data_root /data/CoIN
# Needs pip install ".[vllm]" (vLLM 0.22–0.31, as TRL 1.16 supports).
set -euo pipefail
RECIPE=${1:?usage: vllm_colocate.sh RECIPE.yaml [rdbcl-train overrides...]}
shift
accelerate launch --config_file "${ACCELERATE_CONFIG:-launch/accelerate/single_gpu.yaml}" rdbcl/train.py \
  --config "$RECIPE" --use_vllm true --vllm_mode colocate \
  --vllm_gpu_memory_utilization "${VLLM_GPU_MEMORY_UTILIZATION:-0.3}" "$@"
