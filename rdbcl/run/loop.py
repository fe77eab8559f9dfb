"""The stream loop: for each task, train with the selected method, save π_k, evaluate on every task, report."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import torch
from accelerate import PartialState
from accelerate.logging import get_logger
from trl import ModelConfig, get_peft_config

from rdbcl.config import ContinualConfig, StreamArguments
from rdbcl.files import read_json, write_json
from rdbcl.methods import TaskContext, get_method
from rdbcl.methods.warm_start import warm_start
from rdbcl.models.loading import (
    is_text_only,
    load_policy,
    load_processor,
    model_config,
    resolve_model_path,
    save_policy,
)
from rdbcl.models.text_policy import text_stream
from rdbcl.run.choices import check_choices
from rdbcl.run.evaluate import evaluate_task
from rdbcl.run.metrics import summarize
from rdbcl.run.report import peak_memory_mb, versions, write_report
from rdbcl.run.run_dir import RunDirectory, RunMismatchError
from task_streams import TaskStream, get_stream


logger = get_logger(__name__)
METHOD_STATE = "method_state.pt"


def _jsonable(obj) -> dict:
    return {k: v for k, v in dataclasses.asdict(obj).items()
            if isinstance(v, (str, int, float, bool, list, dict, type(None)))}


def run_config(stream_args: StreamArguments, args: ContinualConfig, model_args: ModelConfig) -> dict:
    """The configuration a run directory is bound to (see ``RunDirectory.claim``), as plain JSON values."""
    config = {"config": {**_jsonable(args), "method": args.method}, "stream_args": _jsonable(stream_args),
              "model_args": _jsonable(model_args)}
    return json.loads(json.dumps(config, default=str))


def run_defaults() -> dict:
    """Every configuration field's default, shaped as ``run_config``: runs written before a field existed match
    a configuration that leaves it at its default."""
    from dataclasses import MISSING, fields

    def defaults(cls) -> dict:
        out = {}
        for f in fields(cls):
            if f.default is not MISSING:
                out[f.name] = f.default
            elif f.default_factory is not MISSING:
                out[f.name] = f.default_factory()
        return out

    config = {"config": defaults(ContinualConfig), "stream_args": defaults(StreamArguments),
              "model_args": defaults(ModelConfig)}
    return json.loads(json.dumps(config, default=str))


class StreamRunner:
    """Runs one method over one task stream and writes the report into ``args.output_dir``."""

    def __init__(self, stream_args: StreamArguments, args: ContinualConfig, model_args: ModelConfig,
                 stream: TaskStream | None = None):
        check_choices(args)
        self.stream_args, self.args, self.model_args = stream_args, args, model_args
        self.state = PartialState()
        self.output_dir = Path(args.output_dir)
        self.peft_config = get_peft_config(model_args)
        if self.peft_config is not None and args.anchor == "base":
            raise ValueError("anchor: `base` needs full fine-tuning; with LoRA each task's adapter is merged, so "
                             "the anchor is always the previous policy. Set `anchor: previous` or `use_peft: false`.")
        self.method = get_method(args.method)()
        self.timings: dict[str, float] = {}
        self.previous_total_s = 0.0
        self.eval_counts: dict[str, int] = {}
        start = time.perf_counter()
        self.stream = stream or get_stream(stream_args.stream, **stream_args.stream_kwargs())
        build_start = time.perf_counter()
        self.model_path, self.timings["model_build_s"] = resolve_model_path(model_args, self.stream.base_model)
        start += time.perf_counter() - build_start  # the one-time build is reported apart from the setup
        stream = self.stream.with_rewards(args.rewards)
        if is_text_only(model_config(self.model_path, model_args)):  # refuses image tasks before anything is written
            stream = text_stream(stream, self.model_path)
        for task in stream:
            if task.skipped:
                counts = ", ".join(f"{n} {split}" for split, n in task.skipped.items())
                logger.warning(f"task {task.name}: skipped {sum(task.skipped.values())} invalid row(s) ({counts}); "
                               "counted in results.json (stream.tasks[].skipped_rows)", main_process_only=True)
        # Held-out tasks (``mode: eval_only``) are never trained: evaluated before and after the stream for the
        # zero-shot degradation; the accuracy matrix covers the trained tasks.
        self.held_out = [t for t in stream if t.mode == "eval_only"]
        self.stream = dataclasses.replace(stream, tasks=[t for t in stream if t.mode != "eval_only"])
        if not len(self.stream):
            raise ValueError(f"stream {stream.name!r}: every task is eval_only; at least one task must be trained.")
        self.timings["setup_s"] = time.perf_counter() - start

    # ----------------------------------------------------------------------------------------------- evaluation
    def _evaluate_one(self, policy, processor, task, stage: str) -> float:
        result = evaluate_task(policy, processor, task, self.args.eval_batch_size, self.args.eval_max_new_tokens,
                               desc=f"eval {stage} on {task.name}", on_error=self.args.on_reward_error)
        self.eval_counts[task.name] = result["n"]  # rows scored (gathered over processes): the whole eval split
        return result["accuracy"]

    def _evaluate_all(self, policy, processor, stage: str, tasks=None) -> list[float]:
        return [self._evaluate_one(policy, processor, task, stage) for task in (self.stream if tasks is None
                                                                               else tasks)]

    def _held_out_results(self, before: list[float], after: list[float] | None) -> list[dict]:
        return [{"name": t.name, "before": b, "after": a, "degradation": None if a is None else b - a}
                for t, b, a in zip(self.held_out, before, after or [None] * len(before), strict=True)]

    # ------------------------------------------------------------------------------------------------- results
    def _results(self, acc, zero_shot, tasks_info, run_start, held_out: list[dict] | None = None) -> dict:
        n = len(self.stream)
        complete = len(acc) == n
        metrics = summarize(acc) if complete else None
        if metrics is not None and held_out and all(h["degradation"] is not None for h in held_out):
            metrics["zero_shot_degradation"] = sum(h["degradation"] for h in held_out) / len(held_out)
        self.timings.pop("total_s", None)  # keep it last; a continued run adds the interrupted run's time
        self.timings["total_s"] = self.previous_total_s + time.perf_counter() - run_start
        config = run_config(self.stream_args, self.args, self.model_args)
        config["model_args"]["resolved_model"] = self.model_path
        return {
            **config,
            "stream": {"name": self.stream.name, "tasks": [t.describe() for t in self.stream],
                       "held_out": [t.describe() for t in self.held_out]},
            "zero_shot": zero_shot,
            "acc": acc,
            "held_out": held_out or [],
            "eval_rows": dict(self.eval_counts),
            "metrics": metrics,
            "tasks": tasks_info,
            "timings": dict(self.timings),
            "peak_memory_mb": peak_memory_mb(),
            "versions": versions(),
            "complete": complete,
        }

    def _write(self, results: dict) -> None:
        if self.state.is_main_process:
            write_report(results, self.output_dir)

    # ---------------------------------------------------------------------------------------------------- run
    def _progress(self) -> dict | None:
        """What an earlier, interrupted run of this configuration left (None for a fresh run)."""
        run_dir = RunDirectory(self.output_dir)
        resumed = False
        if self.state.is_main_process:
            resumed = run_dir.claim(run_config(self.stream_args, self.args, self.model_args), self.args.resume,
                                    run_defaults())
        self.state.wait_for_everyone()
        if not (resumed or (not self.state.is_main_process and run_dir.results is not None)):
            return None
        previous = run_dir.results
        started_from = (previous or {}).get("model_args", {}).get("resolved_model")
        if started_from is not None and started_from != self.model_path:  # the configuration alone cannot tell
            raise RunMismatchError(
                f"{self.output_dir} holds a run that started from {started_from}, but this configuration now starts "
                f"from {self.model_path} (an embedded base rebuilt from another recipe, or another model path); "
                "refusing to continue or reuse it. Use another output_dir, or move that run away.")
        if previous is not None:
            logger.info(f"Continuing the run in {self.output_dir}: {len(previous['acc'])} of {len(self.stream)} "
                        "tasks done.", main_process_only=True)
        return previous

    def run(self) -> dict:
        run_start = time.perf_counter()
        args = self.args
        run_dir = RunDirectory(self.output_dir)
        previous = self._progress()
        if previous is not None and previous.get("complete"):
            logger.info(f"The run in {self.output_dir} is complete; nothing to do.", main_process_only=True)
            return previous
        processor = load_processor(self.model_path, self.model_args)
        base_path = Path(self.model_path)

        if previous is None:  # ----------------------------------------- zero-shot row and held-out tasks, once
            policy = load_policy(self.model_path, self.model_args)
            tasks_info = [{"name": t.name, "chance": t.chance} for t in self.stream]
            acc: list[list[float]] = []
            start = time.perf_counter()
            zero_shot = self._evaluate_all(policy, processor, "base") if args.eval_before_stream else None
            held_out_before = self._evaluate_all(policy, processor, "base", self.held_out)
            self.timings["eval_base_s"] = time.perf_counter() - start
            self._write(self._results(acc, zero_shot, tasks_info, run_start,
                                      self._held_out_results(held_out_before, None)))
        else:
            acc, zero_shot, tasks_info = previous["acc"], previous["zero_shot"], previous["tasks"]
            held_out_before = [h["before"] for h in previous.get("held_out", [])]
            self.timings.update({k: v for k, v in previous["timings"].items() if k != "total_s"})
            self.previous_total_s = previous["timings"].get("total_s", 0.0)
            last = len(acc) - 1
            policy = load_policy(str(run_dir.policy(last, self.stream.tasks[last].name)) if acc else self.model_path,
                                 self.model_args)
            if acc:
                self._load_method_state(run_dir.task_dir(last, self.stream.tasks[last].name))

        anchor_path = run_dir.policy(len(acc) - 1, self.stream.tasks[len(acc) - 1].name) if acc else base_path
        for k in range(len(acc), len(self.stream)):
            task, info = self.stream.tasks[k], tasks_info[k]
            info["before"] = acc[k - 1][k] if k > 0 else (zero_shot[k] if zero_shot else None)
            task_dir, policy_dir = run_dir.task_dir(k, task.name), run_dir.policy(k, task.name)
            if run_dir.has_policy(k, task.name):  # trained and saved before an interruption: only evaluate it
                logger.info(f"=== task {k + 1}/{len(self.stream)}: {task.name}: saved policy found, evaluating it",
                            main_process_only=True)
                policy = load_policy(str(policy_dir), self.model_args)
                info.update(read_json(task_dir / "task_info.json") or {})
                self._load_method_state(task_dir)
            else:
                policy = self._train(k, task, info, policy, processor, anchor_path, base_path, task_dir, policy_dir)
            if not args.save_policies and k > 0 and anchor_path != base_path and self.state.is_main_process:
                shutil.rmtree(anchor_path, ignore_errors=True)
            anchor_path = policy_dir

            # -------------------------------------------------------------- evaluate π_k on every task
            start = time.perf_counter()
            acc.append(self._evaluate_all(policy, processor, f"after {task.name}"))
            self.timings[f"task{k}_eval_s"] = time.perf_counter() - start
            info["after"] = acc[k][k]
            self._write(self._results(acc, zero_shot, tasks_info, run_start,
                                      self._held_out_results(held_out_before, None)))

        for k, info in enumerate(tasks_info):
            info["final"] = acc[-1][k]
        held_out = self._held_out_results(held_out_before,
                                          self._evaluate_all(policy, processor, "final", self.held_out))
        results = self._results(acc, zero_shot, tasks_info, run_start, held_out)
        self._write(results)
        return results

    def _load_method_state(self, task_dir: Path) -> None:
        """The method's cross-task state as it was after the given task (for a continued run)."""
        if (task_dir / METHOD_STATE).is_file():
            self.method.load_state_dict(torch.load(task_dir / METHOD_STATE, weights_only=False))

    def _train(self, k, task, info, policy, processor, anchor_path, base_path, task_dir, policy_dir):
        """Train π_k (continuing from the task's last checkpoint if an interrupted run left one) and save it."""
        args = self.args
        checkpoint = RunDirectory.latest_checkpoint(task_dir, args.max_steps)
        logger.info(f"=== task {k + 1}/{len(self.stream)}: {task.name} ({args.method})"
                    + (f", continuing from {checkpoint}" if checkpoint else "") + " ===", main_process_only=True)
        ctx = TaskContext(index=k, task=task, stream=self.stream, policy=policy,
                          anchor_path=anchor_path if args.anchor == "previous" else base_path,
                          processor=processor, args=args, peft_config=self.peft_config, output_dir=task_dir,
                          resume_from=checkpoint)
        self.method.before_task(ctx)

        # -------------------------------------------------------------- optional SFT warm-start
        if args.warm_start_steps > 0:
            done = read_json(task_dir / "warm_start.json") if checkpoint else None
            if done is None:  # a checkpoint of the RL phase already holds the warm-started weights
                start = time.perf_counter()
                warm_start(ctx)
                self.timings[f"task{k}_warm_start_s"] = time.perf_counter() - start
                done = {"after_warm_start": self._evaluate_one(ctx.policy, processor, task, "warm-start"),
                        "warm_start_log": ctx.log.get("warm_start_log", [])}
                if self.state.is_main_process:
                    write_json(task_dir / "warm_start.json", done)
            info.update(done)

        # -------------------------------------------------------------- train π_k
        start = time.perf_counter()
        policy = self.method.train_task(ctx)
        self.timings[f"task{k}_train_s"] = time.perf_counter() - start
        self.method.after_task(ctx, policy)
        info["train_log"] = ctx.log.get("train_log", [])
        info.setdefault("warm_start_log", [])
        if ctx.log.get("method_summary"):
            info[args.method] = ctx.log["method_summary"]

        # -------------------------------------------------------------- save π_k: the next task's anchor
        start = time.perf_counter()
        if self.state.is_main_process:
            write_json(task_dir / "task_info.json", {key: v for key, v in info.items() if key != "before"})
            method_state = self.method.state_dict()
            if method_state:
                tmp = task_dir / ".method_state.pt.tmp"
                torch.save(method_state, tmp)
                os.replace(tmp, task_dir / METHOD_STATE)
            save_policy(policy, processor, policy_dir)  # atomic: π_k exists completely or not at all
            for old in task_dir.glob("checkpoint-*"):  # the task is done: its resume points are not needed
                shutil.rmtree(old, ignore_errors=True)
        self.state.wait_for_everyone()
        self.timings[f"task{k}_save_s"] = time.perf_counter() - start
        return policy
