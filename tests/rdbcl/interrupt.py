"""Run ``rdbcl.train`` and SIGKILL the process at a chosen point (a test helper, not part of the package).

    python tests/rdbcl/interrupt.py {train,eval,save} N -- <rdbcl-train arguments>

``train N``: before the N-th RL training step of the run; ``eval N``: during the N-th task evaluation; ``save N``:
half-way through the N-th policy save (model written to the temporary directory, not yet renamed).
"""

from __future__ import annotations

import os
import signal
import sys


def kill() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def on_nth_call(owner, name: str, n: int, before=None) -> None:
    original, calls = getattr(owner, name), [0]

    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == n:
            if before is not None:
                before(*args, **kwargs)
            kill()
        return original(*args, **kwargs)

    setattr(owner, name, wrapped)


def main() -> None:
    point, n, argv = sys.argv[1], int(sys.argv[2]), sys.argv[4:]
    import rdbcl.run.loop as loop
    from rdbcl.rl.trainer import ContinualGRPOTrainer

    if point == "train":
        on_nth_call(ContinualGRPOTrainer, "training_step", n)
    elif point == "eval":
        on_nth_call(loop, "evaluate_task", n)
    elif point == "save":
        def half_save(model, processor, path):
            model.save_pretrained(path.with_name(path.name + ".partial"))

        on_nth_call(loop, "save_policy", n, before=half_save)
    from rdbcl.train import main as train

    train(argv)
    raise SystemExit(f"the run finished before the kill point {point} {n}")


if __name__ == "__main__":
    main()
