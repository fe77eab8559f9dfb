#!/usr/bin/env bash
# Rollouts by a separate vLLM server (TRL's server mode): `trl vllm-serve` on its own GPU(s), training on the others.
#   VLLM_GPUS=0 TRAIN_GPUS=1,2,3 bash launch/scripts/vllm_server.sh launch/recipes/qwen2.5-vl-3b/coin_grpo.yaml \
#       --data_root /data/CoIN
# The server serves the base model; TRL pushes the policy's weights to it after every update, so each task's
# rollouts come from the current policy (and after a task, from π_k, the next task's anchor).
set -euo pipefail
RECIPE=${1:?usage: vllm_server.sh RECIPE.yaml [rdbcl-train overrides...]}
shift
MODEL=$(python -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['model_name_or_path'])" "$RECIPE")
VLLM_GPUS=${VLLM_GPUS:-0}
TRAIN_GPUS=${TRAIN_GPUS:-1}
PORT=${VLLM_PORT:-8000}

CUDA_VISIBLE_DEVICES=$VLLM_GPUS trl vllm-serve --model "$MODEL" --port "$PORT" \
  --tensor_parallel_size "$(awk -F, '{print NF}' <<<"$VLLM_GPUS")" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "http://localhost:$PORT/health/" >/dev/null; do sleep 5; done

CUDA_VISIBLE_DEVICES=$TRAIN_GPUS accelerate launch --num_processes "$(awk -F, '{print NF}' <<<"$TRAIN_GPUS")" \
  --config_file "${ACCELERATE_CONFIG:-launch/accelerate/multi_gpu.yaml}" rdbcl/train.py \
  --config "$RECIPE" --use_vllm true --vllm_mode server --vllm_server_port "$PORT" "$@"
