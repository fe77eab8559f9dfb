"""The stream loop: for each task, train with the selected method, save π_k, evaluate on every task, report."""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from accelerate import PartialState
from accelerate.logging import get_logger
from trl import ModelConfig, get_peft_config

from rdbcl.config import ContinualConfig, StreamArguments
from rdbcl.evaluate import evaluate_task
from rdbcl.methods import TaskContext, get_method
from rdbcl.metrics import summarize
from rdbcl.modeling import load_policy, load_processor, resolve_model_path, save_policy
from rdbcl.report import versions, write_report
from rdbcl.warm_start import warm_start
from task_streams import TaskStream, get_stream


logger = get_logger(__name__)


def _jsonable(obj) -> dict:
    return {k: v for k, v in dataclasses.asdict(obj).items()
            if isinstance(v, (str, int, float, bool, list, dict, type(None)))}


class StreamRunner:
    """Runs one method over one task stream and writes the report into ``args.output_dir``."""

    def __init__(self, stream_args: StreamArguments, args: ContinualConfig, model_args: ModelConfig,
                 stream: TaskStream | None = None):
        self.stream_args, self.args, self.model_args = stream_args, args, model_args
        self.state = PartialState()
        self.output_dir = Path(args.output_dir)
        self.peft_config = get_peft_config(model_args)
        if self.peft_config is not None and args.anchor == "base":
            raise ValueError("anchor: `base` needs full fine-tuning; with LoRA each task's adapter is merged, so "
                             "the anchor is always the previous policy. Set `anchor: previous` or `use_peft: false`.")
        self.method = get_method(args.method)()
        self.timings: dict[str, float] = {}
        start = time.perf_counter()
        self.model_path, self.timings["model_build_s"] = resolve_model_path(model_args)
        self.stream = stream or get_stream(stream_args.stream, n_train=stream_args.n_train,
                                           n_eval=stream_args.n_eval, seed=stream_args.stream_seed,
                                           data_root=stream_args.data_root)
        stream = self.stream.with_rewards(args.rewards)
        # Held-out tasks (``mode: eval_only``) are never trained: evaluated before and after the stream for the
        # zero-shot degradation; the accuracy matrix covers the trained tasks.
        self.held_out = [t for t in stream if t.mode == "eval_only"]
        self.stream = TaskStream(stream.name, [t for t in stream if t.mode != "eval_only"])
        if not len(self.stream):
            raise ValueError(f"stream {stream.name!r}: every task is eval_only; at least one task must be trained.")
        self.timings["setup_s"] = time.perf_counter() - start

    # ----------------------------------------------------------------------------------------------- evaluation
    def _evaluate_one(self, policy, processor, task, stage: str) -> float:
        return evaluate_task(policy, processor, task, self.args.eval_batch_size, self.args.eval_max_new_tokens,
                             desc=f"eval {stage} on {task.name}", on_error=self.args.on_reward_error)["accuracy"]

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
        self.timings.pop("total_s", None)  # keep it last
        self.timings["total_s"] = time.perf_counter() - run_start
        return {
            "config": {**_jsonable(self.args), "method": self.args.method},
            "stream_args": _jsonable(self.stream_args),
            "model_args": {**_jsonable(self.model_args), "resolved_model": self.model_path},
            "stream": {"name": self.stream.name, "tasks": [t.describe() for t in self.stream],
                       "held_out": [t.describe() for t in self.held_out]},
            "zero_shot": zero_shot,
            "acc": acc,
            "held_out": held_out or [],
            "metrics": metrics,
            "tasks": tasks_info,
            "timings": dict(self.timings),
            "versions": versions(),
            "complete": complete,
        }

    def _write(self, results: dict) -> None:
        if self.state.is_main_process:
            write_report(results, self.output_dir)

    # ---------------------------------------------------------------------------------------------------- run
    def run(self) -> dict:
        run_start = time.perf_counter()
        args = self.args
        processor = load_processor(self.model_path, self.model_args)
        policy = load_policy(self.model_path, self.model_args)
        base_path = Path(self.model_path)
        policies_dir = self.output_dir / "policies"

        # ------------------------------------------------------------------ zero-shot row
        zero_shot = None
        if args.eval_before_stream:
            start = time.perf_counter()
            zero_shot = self._evaluate_all(policy, processor, "base")
            self.timings["eval_base_s"] = time.perf_counter() - start

        held_out_before = self._evaluate_all(policy, processor, "base", self.held_out)
        acc: list[list[float]] = []
        tasks_info = [{"name": t.name, "chance": t.chance} for t in self.stream]
        anchor_path = base_path
        for k, task in enumerate(self.stream):
            info = tasks_info[k]
            info["before"] = acc[k - 1][k] if k > 0 else (zero_shot[k] if zero_shot else None)
            logger.info(f"=== task {k + 1}/{len(self.stream)}: {task.name} ({args.method}) ===")
            ctx = TaskContext(index=k, task=task, stream=self.stream, policy=policy,
                              anchor_path=anchor_path if args.anchor == "previous" else base_path,
                              processor=processor, args=args, peft_config=self.peft_config,
                              output_dir=self.output_dir / "tasks" / f"task{k}-{task.name}")
            self.method.before_task(ctx)

            # -------------------------------------------------------------- optional SFT warm-start
            if args.warm_start_steps > 0:
                start = time.perf_counter()
                warm_start(ctx)
                self.timings[f"task{k}_warm_start_s"] = time.perf_counter() - start
                info["after_warm_start"] = self._evaluate_one(ctx.policy, processor, task, "warm-start")

            # -------------------------------------------------------------- train π_k
            start = time.perf_counter()
            policy = self.method.train_task(ctx)
            self.timings[f"task{k}_train_s"] = time.perf_counter() - start
            self.method.after_task(ctx, policy)
            info["train_log"] = ctx.log.get("train_log", [])
            info["warm_start_log"] = ctx.log.get("warm_start_log", [])
            if ctx.log.get("method_summary"):
                info[args.method] = ctx.log["method_summary"]

            # -------------------------------------------------------------- save π_k: the next task's anchor
            start = time.perf_counter()
            task_policy_dir = policies_dir / f"task{k}-{task.name}"
            if self.state.is_main_process:
                policies_dir.mkdir(parents=True, exist_ok=True)
                save_policy(policy, processor, task_policy_dir)
                if not args.save_policies and k > 0 and anchor_path != base_path:
                    shutil.rmtree(anchor_path, ignore_errors=True)
            self.state.wait_for_everyone()
            anchor_path = task_policy_dir
            self.timings[f"task{k}_save_s"] = time.perf_counter() - start

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
