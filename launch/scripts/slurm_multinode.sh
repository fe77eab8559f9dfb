#!/usr/bin/env bash
# Multi-node run under SLURM: one `accelerate launch` per node, 8 GPUs each, DeepSpeed ZeRO-2 by default.
#   sbatch --nodes 2 launch/scripts/slurm_multinode.sh launch/recipes/qwen2.5-vl-3b/coin_grpo.yaml --data_root /data/CoIN
# Rerunning the same command continues an interrupted run (same output_dir; see README "Resume").
#SBATCH --job-name=rdbcl
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=64
#SBATCH --time=48:00:00
set -euo pipefail
RECIPE=${1:?usage: sbatch --nodes N slurm_multinode.sh RECIPE.yaml [rdbcl-train overrides...]}
shift
ACCELERATE_CONFIG=${ACCELERATE_CONFIG:-launch/accelerate/deepspeed_zero2.yaml}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
MAIN_HOST=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
MAIN_PORT=${MAIN_PORT:-29500}
NUM_PROCESSES=$((SLURM_NNODES * GPUS_PER_NODE))

# shellcheck disable=SC2016  # $SLURM_NODEID is expanded on each node by the inner shell
srun --kill-on-bad-exit=1 bash -c 'accelerate launch \
    --config_file "$0" --num_machines "$1" --num_processes "$2" --machine_rank "$SLURM_NODEID" \
    --main_process_ip "$3" --main_process_port "$4" --rdzv_backend c10d \
    rdbcl/train.py --config "${@:5}"' \
  "$ACCELERATE_CONFIG" "$SLURM_NNODES" "$NUM_PROCESSES" "$MAIN_HOST" "$MAIN_PORT" "$RECIPE" "$@"
