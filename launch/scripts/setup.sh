#!/usr/bin/env bash
# Installs rdbcl and its test tools into the current Python environment.
#
#   bash launch/scripts/setup.sh            # CPU: torch's CPU wheel first, then the project (editable) + dev extras
#   RDBCL_EXTRAS=dev,vllm bash launch/scripts/setup.sh   # GPU machine with a CUDA torch already installed
#
# torch is installed first and pinned, so that resolving the project's other dependencies never pulls a
# multi-GB CUDA build onto a CPU machine. An already-installed torch (e.g. a CUDA build) is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
PIP="python -m pip install --quiet --disable-pip-version-check"
if ! python -c "import torch" 2>/dev/null; then
    $PIP "torch==${RDBCL_TORCH_VERSION:-2.13.0}"
fi
$PIP -e ".[${RDBCL_EXTRAS:-dev}]"
