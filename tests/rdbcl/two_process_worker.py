"""One rank of a 2-process CPU run of the ``rdbcl`` method (launched by torchrun from the test; gloo backend).
Each rank writes what it computed to ``OUT/rank{r}.json``: the results it returned and the files it saw."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from rdbcl.run.loop import StreamRunner
from rdbcl.train import parse_args
from task_streams import TaskStream, get_stream


def main(out: str) -> None:
    stream = get_stream("embedded", n_train=32, n_eval=10, seed=0)  # 10 eval rows: uneven shards are gathered too
    stream = TaskStream("embedded", stream.tasks[:2])
    recipe = Path(__file__).resolve().parents[2] / "launch" / "recipes" / "embedded" / "rl.yaml"
    stream_args, args, model_args = parse_args([
        "--config", str(recipe), "--method", "rdbcl", "--max_steps", "3", "--warm_start_steps", "0",
        "--per_device_train_batch_size", "8",
        "--num_generations", "4", "--max_completion_length", "8", "--eval_batch_size", "4", "--logging_steps", "1",
        "--output_dir", str(Path(out) / "run")])
    results = StreamRunner(stream_args, args, model_args, stream=stream).run()
    rank = int(os.environ["RANK"])
    from accelerate import PartialState

    state = PartialState()
    (Path(out) / f"rank{rank}.json").write_text(json.dumps({
        "world_size": state.num_processes, "acc": results["acc"], "eval_rows": results["eval_rows"],
        "rdbcl": [t.get("rdbcl", {}).get("steps") for t in results["tasks"]]}))


if __name__ == "__main__":
    main(sys.argv[1])
