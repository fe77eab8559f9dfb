"""Two real processes (torchrun, gloo on CPU) train one model with ``rdbcl``: every rank computes the same RP
statistics and β values, evaluation scores each held-out row exactly once, and only the main process writes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_rdbcl_run_agrees_across_ranks(tmp_path):
    worker = Path(__file__).parent / "two_process_worker.py"
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                           str(_free_port()), str(worker), str(tmp_path)], capture_output=True, text=True,
                          env={**__import__("os").environ, "RDBCL_CPU_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]

    # RP statistics and β maps come from globally gathered batches: identical on both ranks, every step
    steps = [r["rdbcl"] for r in ranks]
    assert steps[0] == steps[1] and all(len(task) == 3 for task in steps[0])
    assert all(len(s["rp_values"]) == 2 * 8 // 4 for task in steps[0] for s in task)  # prompts of both ranks

    # evaluation: 10 rows per task, sharded 5 + 5, gathered once; both ranks hold the same matrix
    assert ranks[0]["eval_rows"] == ranks[1]["eval_rows"] == {"colour": 10, "digit_0_4": 10}
    assert ranks[0]["acc"] == ranks[1]["acc"]
    written = json.loads((tmp_path / "run" / "results.json").read_text())
    assert written["acc"] == ranks[0]["acc"] and written["eval_rows"] == {"colour": 10, "digit_0_4": 10}
    assert not list((tmp_path / "run").glob(".results.json.*"))
