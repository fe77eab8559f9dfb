"""The run directory as the record of a run: which configuration it belongs to and how far it got, so that a killed
run continues where it stopped (completed tasks kept, the interrupted task resumed from its last checkpoint).

Layout: ``run.json`` (the configuration fingerprint), ``results.json`` (accuracy rows so far), ``policies/task{k}-…``
(π_k, the next task's anchor), ``tasks/task{k}-…/`` (trainer output: ``checkpoint-*``, ``warm_start.json``,
``task_info.json``). Every file is written to a temporary name and renamed, so a kill never leaves half a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rdbcl.files import read_json, write_json


# Fields that do not change what a run computes: logging, output locations, checkpoint cadence, evaluation batching,
# multi-process plumbing. A run may be continued with different values of these.
NEUTRAL_FIELDS = {
    "output_dir", "logging_dir", "logging_steps", "logging_strategy", "logging_first_step", "report_to", "run_name",
    "checkpoint_steps", "resume", "save_steps", "save_strategy", "save_total_limit", "disable_tqdm", "log_level",
    "log_level_replica", "log_completions", "eval_batch_size", "local_rank", "dataloader_num_workers",
    "dataloader_prefetch_factor", "dataloader_persistent_workers", "dataloader_pin_memory", "push_to_hub",
    "hub_model_id", "hub_token", "hub_strategy", "ddp_backend", "ddp_timeout", "save_policies", "use_cpu",
    "data_root",  # where the stream's files are, not what they are (a moved dataset continues its runs)
}


class RunMismatchError(ValueError):
    """The output directory holds a run of a different configuration."""


def fingerprint(config: dict) -> dict:
    """The parts of a run's configuration that determine its results."""
    return {section: {k: v for k, v in values.items() if k not in NEUTRAL_FIELDS}
            for section, values in config.items()}


def differences(old: dict, new: dict, defaults: dict | None = None) -> list[str]:
    """Fields whose values differ. A field the stored run does not know (added by a later version of rdbcl) is not a
    difference while it keeps its default (``defaults``: section → field → default value)."""
    out, defaults = [], defaults or {}
    for section in sorted(set(old) | set(new)):
        a, b, d = old.get(section, {}), new.get(section, {}), defaults.get(section, {})
        out += [f"{section}.{k}: {a.get(k, '<unset>')!r} in the run, {b.get(k, '<unset>')!r} now"
                for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k) and k not in NEUTRAL_FIELDS
                and not (k not in a and k in d and b.get(k) == d[k])]
    return out


class RunDirectory:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def results(self) -> dict | None:
        """The last ``results.json`` written (after the zero-shot evaluation and after each task), if any."""
        return read_json(self.path / "results.json")

    def claim(self, config: dict, resume: bool, defaults: dict | None = None) -> bool:
        """Bind the directory to this configuration. Returns whether an earlier run is being continued.

        A directory holding a run of another configuration is refused, with the differing fields named
        (``defaults``: see ``differences``).
        """
        run_file = self.path / "run.json"
        stored = read_json(run_file)
        current = fingerprint(config)
        if stored is None:
            write_json(run_file, current)
            return False
        diff = differences(stored, json.loads(json.dumps(current, default=str)), defaults)
        if diff:
            raise RunMismatchError(f"{self.path} holds a run with a different configuration; refusing to continue "
                                   "it. Differences: " + "; ".join(diff[:12])
                                   + ". Use another output_dir, or restore these settings to continue that run.")
        if not resume:
            raise RunMismatchError(f"{self.path} already holds this run; pass --resume true to continue it or "
                                   "choose another output_dir.")
        return True

    def policy(self, k: int, name: str) -> Path:
        return self.path / "policies" / f"task{k}-{name}"

    def task_dir(self, k: int, name: str) -> Path:
        return self.path / "tasks" / f"task{k}-{name}"

    def has_policy(self, k: int, name: str) -> bool:
        """π_k was saved completely (saves go to ``*.partial`` and are renamed when done)."""
        return (self.policy(k, name) / "config.json").is_file()

    @staticmethod
    def latest_checkpoint(task_dir: Path, max_steps: int) -> str | None:
        """The newest complete trainer checkpoint (``trainer_state.json`` is written last) before the task's last
        step, if any. A checkpoint at the last step is passed over: transformers' resume from it runs one step
        more; the steps since the one before are redone instead (deterministically)."""
        steps = []
        for path in task_dir.glob("checkpoint-*"):
            found = re.fullmatch(r"checkpoint-(\d+)", path.name)
            if found and int(found.group(1)) < max_steps and (path / "trainer_state.json").is_file():
                steps.append((int(found.group(1)), path))
        return str(max(steps)[1]) if steps else None
