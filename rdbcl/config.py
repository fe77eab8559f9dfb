"""Configuration: one dataclass extending TRL's ``GRPOConfig`` with the continual-learning fields, plus the stream."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields

from trl import GRPOConfig


@dataclass
class StreamArguments:
    """Which task stream to run and how much of it.

    Args:
        stream: registered stream name (``python -m task_streams list``) or the path of a stream file (.yaml).
        n_train: training rows per task (≤ 0: all).
        n_eval: held-out evaluation rows per task.
        stream_seed: seed of the row sampling.
        data_root: local root of a stream's released files (streams that read local data).
        skip_invalid: skip and count rows that cannot become samples (``true``), stop at the first one naming file,
            row and field (``false``), or follow the stream file's own ``skip_invalid`` (unset).
        verifiable_only: keep only the tasks with a verifiable metric that can be scored offline (UCIT without its
            caption tasks, MLLM-CL ability without GUI); without it a task scored only remotely is refused.
    """

    stream: str = field(metadata={"help": "Stream name (`python -m task_streams list`) or a stream file (.yaml)."})
    n_train: int = field(default=2000, metadata={"help": "Training rows per task (<= 0: all)."})
    n_eval: int = field(default=100, metadata={"help": "Held-out evaluation rows per task."})
    stream_seed: int = field(default=0, metadata={"help": "Seed of the row sampling."})
    data_root: str | None = field(default=None, metadata={"help": "Local root of the stream's released files."})
    skip_invalid: bool | None = field(default=None, metadata={"help": "Skip and count bad rows (true), stop at the "
                                                                      "first (false); unset: the stream file's."})
    verifiable_only: bool = field(default=False, metadata={"help": "Keep only tasks with a verifiable metric that "
                                                                   "can be scored offline."})

    def __post_init__(self) -> None:
        _check_types(self)
        from task_streams import available_streams, is_stream_file

        if self.stream not in available_streams() and not is_stream_file(self.stream):
            raise ValueError(f"stream: unknown stream {self.stream!r}; choose one of {available_streams()} or give "
                             "the path of a stream file (.yaml).")
        if self.n_eval <= 0:
            raise ValueError(f"n_eval: must be positive to fill the accuracy matrix, got {self.n_eval}.")

    def stream_kwargs(self) -> dict:
        """Keyword arguments of ``task_streams.get_stream`` (unset options are left to the stream's own default)."""
        kwargs = {"n_train": self.n_train, "n_eval": self.n_eval, "seed": self.stream_seed,
                  "data_root": self.data_root}
        if self.skip_invalid is not None:
            kwargs["skip_invalid"] = self.skip_invalid
        if self.verifiable_only:
            kwargs["verifiable_only"] = True
        return kwargs


@dataclass
class ContinualConfig(GRPOConfig):
    r"""``GRPOConfig`` plus the fields of a continual stream. Training fields such as ``max_steps`` and
    ``learning_rate`` apply to each task of the stream.

    > Method

    Args:
        method: continual method name (see ``rdbcl.methods.available_methods()``).
        anchor: KL anchor of task k: ``previous`` (π_{k−1}, the policy after the previous task) or ``base`` (π_0).

    > Warm-start (an explicit, reported SFT phase before each task's RL)

    Args:
        warm_start_steps: SFT steps on the task's answers before RL (0: none).
        warm_start_learning_rate: learning rate of the warm-start.
        warm_start_batch_size: per-device batch size of the warm-start.

    > RDB-CL (method `rdbcl`): β_i = β_min + (β_max − β_min) · g(RP_i)

    Args:
        rp_estimator: reasoning-portability estimator (``rdbcl.rl.portability.available_estimators()``).
        rp_reward_threshold: a completion whose correctness reward exceeds this counts as correct.
        rp_fallback: RP of a prompt with no correct completion: ``uniform`` or ``zero``.
        rp_anchor_rollouts: with ``anchor_pass_rate``, rollouts sampled from the anchor per prompt (cached per
            task).
        rp_span: tokens the log-prob estimators average over: ``completion`` (all), ``reasoning`` (the ``<think>``
            content; a completion without one has RP 0) or ``answer`` (the ``<answer>`` content).
        rp_prefix_fraction: with ``prefix_transfer``, the fraction of each rollout's reasoning the anchor is given
            to continue.
        beta_schedule: g: ``sigmoid`` (around the running median of RP), ``linear``, ``threshold``, ``constant``.
        beta_min / beta_max: range of the per-sample KL weight.
        beta_direction: ``protect`` (high RP → large β) or ``explore`` (the reverse).
        beta_ema_decay: EMA decay of the RP median/spread across steps (0: current global batch only).
        beta_linear_lo / beta_linear_hi: RP range mapped onto [0, 1] by the ``linear`` schedule.

    > SFT baselines (``seq_ft``, ``replay``, ``ewc``, ``mm_ewc``, ``lwf``, ``olora``, ``moelora``)

    Args:
        replay_buffer_size: rows of earlier tasks kept for replay.
        replay_ratio: fraction of each task's training rows drawn from the buffer.
        replay_strategy: ``reservoir`` (uniform over all rows seen) or ``per_task`` (equal quota per task).
        ewc_lambda: weight λ of the EWC penalty.
        ewc_online: keep one decayed Fisher and the latest anchor (online EWC) instead of one term per task.
        ewc_gamma: decay of the online Fisher.
        fisher_batches: training batches used to estimate a task's diagonal Fisher.
        mm_adaptive: ``mm_ewc`` rescales each module's Fisher (vision, projector, language) to a common scale.
        mm_consistency_weight: weight of ``mm_ewc``'s cross-modal consistency loss.
        olora_lambda: weight of O-LoRA's orthogonality loss.
        olora_l2: weight of O-LoRA's L2 penalty on the new adapter (0: off).
        moelora_experts / moelora_rank / moelora_alpha: MoELoRA experts per layer, their rank and scaling numerator.
        moelora_target_modules: comma-separated names of the linear layers that get experts.
        lwf_alpha: weight of LwF's distillation term.
        lwf_temperature: distillation temperature.

    > RL baselines (``grpo_replay`` uses the replay fields above; ``rapo``)

    Args:
        rapo_lambda: weight λ of RaPO's retention reward ``exp(−α·drift)`` added to the task reward.
        rapo_alpha: α, how fast the retention reward decays with a rollout's drift from the anchor.
        rapo_ema: decay of CTAN's running reward spread σ̂, carried across tasks.

    > Rewards

    Args:
        rewards: per-task reward overrides, ``{task_name: [reward, ...]}`` (``"*"``: every task); a reward is a name
            (built-in, ``package.module:function``, ``path/file.py:function``) or ``{name, weight, params}``.
            Unset: each task's own rewards from its stream.
        on_reward_error: a reward that raises on a sample: ``raise`` (stop, naming reward, task and sample) or
            ``zero`` (score 0, count it in ``reward_errors/<name>`` and the report).

    > Checkpoints and resume

    Args:
        checkpoint_steps: save a trainer checkpoint every N steps of each task (0: only the task boundaries); a
            continued run resumes the interrupted task from its last checkpoint.
        resume: continue the run already in ``output_dir`` when its configuration matches (a different
            configuration is always refused); ``false`` refuses any existing run there.

    > Evaluation

    Args:
        eval_batch_size: prompts per batched greedy generation.
        eval_max_new_tokens: generation budget at evaluation.
        eval_before_stream: also evaluate the base model on every task (the zero-shot row).
        save_policies: keep every task's policy in ``output_dir/policies`` (the last one is always kept).
    """

    method: str = field(default="grpo", metadata={"help": "Continual method name, e.g. `grpo`."})
    anchor: str = field(default="previous", metadata={"help": "KL anchor: `previous` (π_{k-1}) or `base` (π_0)."})
    warm_start_steps: int = field(default=0, metadata={"help": "SFT warm-start steps per task before RL (0: off)."})
    warm_start_learning_rate: float = field(default=1e-3, metadata={"help": "Learning rate of the SFT warm-start."})
    warm_start_batch_size: int = field(default=16, metadata={"help": "Per-device batch size of the warm-start."})
    rp_estimator: str = field(default="anchor_likelihood", metadata={"help": "RDB-CL: portability estimator."})
    rp_reward_threshold: float = field(default=0.5, metadata={"help": "RDB-CL: reward above which a completion "
                                                                       "counts as correct."})
    rp_fallback: str = field(default="uniform", metadata={"help": "RDB-CL: RP with no correct completion: "
                                                                  "`uniform` or `zero`."})
    rp_anchor_rollouts: int = field(default=4, metadata={"help": "RDB-CL, anchor_pass_rate: rollouts sampled "
                                                                    "from the anchor per prompt (cached)."})
    rp_span: str = field(default="completion", metadata={"help": "RDB-CL: span of the log-prob estimators: "
                                                                  "`completion`, `reasoning` or `answer`."})
    rp_prefix_fraction: float = field(default=0.5, metadata={"help": "RDB-CL, prefix_transfer: fraction of each "
                                                                      "rollout's reasoning the anchor continues."})
    beta_schedule: str = field(default="sigmoid", metadata={"help": "RDB-CL: sigmoid, linear, threshold, constant."})
    beta_min: float = field(default=0.0, metadata={"help": "RDB-CL: smallest per-sample KL weight."})
    beta_max: float = field(default=0.08, metadata={"help": "RDB-CL: largest per-sample KL weight."})
    beta_direction: str = field(default="protect", metadata={"help": "RDB-CL: `protect` or `explore`."})
    beta_ema_decay: float = field(default=0.9, metadata={"help": "RDB-CL: EMA decay of RP median and spread."})
    beta_linear_lo: float = field(default=0.0, metadata={"help": "RDB-CL: RP mapped to g=0 by `linear`."})
    beta_linear_hi: float = field(default=1.0, metadata={"help": "RDB-CL: RP mapped to g=1 by `linear`."})
    replay_buffer_size: int = field(default=500, metadata={"help": "Replay: rows of earlier tasks kept."})
    replay_ratio: float = field(default=0.2, metadata={"help": "Replay: fraction of rows from the buffer."})
    replay_strategy: str = field(default="reservoir", metadata={"help": "Replay: `reservoir` or `per_task`."})
    ewc_lambda: float = field(default=1e4, metadata={"help": "EWC: penalty weight λ."})
    ewc_online: bool = field(default=False, metadata={"help": "EWC: one decayed Fisher instead of one per task."})
    ewc_gamma: float = field(default=1.0, metadata={"help": "EWC: decay of the online Fisher."})
    fisher_batches: int = field(default=16, metadata={"help": "EWC: batches for a task's diagonal Fisher."})
    mm_adaptive: bool = field(default=True, metadata={"help": "mm_ewc: per-module adaptive Fisher weights."})
    mm_consistency_weight: float = field(default=1.0, metadata={"help": "mm_ewc: cross-modal consistency weight."})
    olora_lambda: float = field(default=0.5, metadata={"help": "O-LoRA: orthogonality loss weight."})
    olora_l2: float = field(default=0.0, metadata={"help": "O-LoRA: L2 weight on the new adapter."})
    moelora_experts: int = field(default=4, metadata={"help": "MoELoRA: experts per layer."})
    moelora_rank: int = field(default=8, metadata={"help": "MoELoRA: rank of each expert."})
    moelora_alpha: float = field(default=16.0, metadata={"help": "MoELoRA: scaling numerator (alpha / rank)."})
    moelora_target_modules: str = field(default="q_proj,v_proj", metadata={"help": "MoELoRA: target layers."})
    lwf_alpha: float = field(default=1.0, metadata={"help": "LwF: weight of the distillation term."})
    lwf_temperature: float = field(default=2.0, metadata={"help": "LwF: distillation temperature."})
    rapo_lambda: float = field(default=0.5, metadata={"help": "RaPO: weight of the retention reward."})
    rapo_alpha: float = field(default=20.0, metadata={"help": "RaPO: decay of the retention reward with drift."})
    rapo_ema: float = field(default=0.999, metadata={"help": "RaPO: EMA decay of CTAN's reward spread."})
    rewards: dict | str | None = field(default=None, metadata={"help": "Per-task reward overrides as YAML/JSON: "
                                                                        "{task: [name | {name, weight, params}]}."})
    on_reward_error: str = field(default="raise", metadata={"help": "A reward raising on a sample: `raise` or "
                                                                    "`zero` (score 0 and count it)."})
    checkpoint_steps: int = field(default=0, metadata={"help": "Trainer checkpoint every N steps of a task (0: "
                                                                     "task boundaries only)."})
    resume: bool = field(default=True, metadata={"help": "Continue the matching run already in output_dir."})
    eval_batch_size: int = field(default=50, metadata={"help": "Prompts per batched greedy generation at eval."})
    eval_max_new_tokens: int = field(default=16, metadata={"help": "Maximum new tokens at evaluation."})
    eval_before_stream: bool = field(default=True, metadata={"help": "Evaluate the base model first (zero-shot row)."})
    save_policies: bool = field(default=True, metadata={"help": "Keep every task's policy, not only the last."})

    def __post_init__(self) -> None:
        _check_types(self, only=_OWN_FIELDS)
        if not self.use_cpu and not _has_accelerator():
            # Without it, transformers/accelerate set up no process group on a CPU-only machine and every process
            # of a torchrun / `accelerate launch --multi_gpu` job would train alone; with it they use gloo.
            self.use_cpu = True
        super().__post_init__()
        if self.anchor not in ("previous", "base"):
            raise ValueError(f"anchor: must be `previous` or `base`, got {self.anchor!r}.")
        for name in ("warm_start_steps", "checkpoint_steps", "eval_batch_size", "eval_max_new_tokens",
                     "warm_start_batch_size"):
            least = 0 if name in ("warm_start_steps", "checkpoint_steps") else 1
            if getattr(self, name) < least:
                raise ValueError(f"{name}: must be >= {least}, got {getattr(self, name)}.")
        self._check_rdbcl()
        self._check_rewards()
        self._check_sft()
        self._check_rapo()
        if self.max_steps is None or self.max_steps <= 0:
            raise ValueError("max_steps: set the number of RL steps per task (> 0); epochs are ambiguous on a stream.")


    def _check_sft(self) -> None:
        if not 0.0 <= self.replay_ratio < 1.0:
            raise ValueError(f"replay_ratio: must be in [0, 1), got {self.replay_ratio}.")
        for name in ("replay_buffer_size", "fisher_batches", "moelora_experts", "moelora_rank"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}.")
        for name in ("ewc_lambda", "lwf_alpha", "ewc_gamma", "mm_consistency_weight", "olora_lambda", "olora_l2"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}.")
        if self.lwf_temperature <= 0:
            raise ValueError(f"lwf_temperature: must be > 0, got {self.lwf_temperature}.")

    def _check_rapo(self) -> None:
        for name in ("rapo_lambda", "rapo_alpha"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}.")
        if not 0.0 <= self.rapo_ema < 1.0:
            raise ValueError(f"rapo_ema: must be in [0, 1), got {self.rapo_ema}.")
        if self.method == "rapo" and self.beta == 0.0:
            raise ValueError("beta: rapo measures each rollout's drift with the anchor's log-probs, which TRL "
                             "computes only with a KL term; set beta > 0 (RaPO's runs use e.g. 0.002).")
        if self.method == "rapo" and self.multi_objective_aggregation != "sum_then_normalize":
            raise ValueError("multi_objective_aggregation: rapo adds its retention reward to the weighted sum of the "
                             "task rewards before normalising; use `sum_then_normalize`.")

    def _check_rewards(self) -> None:
        """Parse ``rewards`` (YAML mapping, or its JSON/YAML text from the command line) and resolve every reward now,
        so a typo fails before anything is trained or written."""
        import yaml

        import reward_fns

        if self.on_reward_error not in reward_fns.ON_ERROR:
            raise ValueError(f"on_reward_error: must be one of {reward_fns.ON_ERROR}, got {self.on_reward_error!r}.")
        if isinstance(self.rewards, str):
            try:
                self.rewards = yaml.safe_load(self.rewards)
            except yaml.YAMLError as exc:
                raise ValueError(f"rewards: not a YAML/JSON mapping: {exc}") from exc
        if self.rewards is None:
            return
        if not isinstance(self.rewards, dict):
            raise ValueError(f"rewards: expected a mapping {{task: [reward, ...]}}, got {self.rewards!r}.")
        for task, specs in self.rewards.items():
            if not isinstance(specs, list) or not specs:
                raise ValueError(f"rewards.{task}: expected a non-empty list of rewards, got {specs!r}.")
            for i, item in enumerate(specs):
                reward_fns.RewardSpec.checked(item, where=f"rewards.{task}[{i}]")

    def _check_rdbcl(self) -> None:
        if self.rp_fallback not in ("uniform", "zero"):
            raise ValueError(f"rp_fallback: must be `uniform` or `zero`, got {self.rp_fallback!r}.")
        if not 0.0 <= self.beta_min <= self.beta_max:
            raise ValueError(f"beta_min/beta_max: need 0 <= beta_min <= beta_max, got {self.beta_min}, "
                             f"{self.beta_max}.")
        if not 0.0 <= self.rp_prefix_fraction <= 1.0:
            raise ValueError(f"rp_prefix_fraction: must be in [0, 1], got {self.rp_prefix_fraction}.")
        if self.rp_anchor_rollouts < 1:
            raise ValueError(f"rp_anchor_rollouts: must be >= 1, got {self.rp_anchor_rollouts}.")
        if not 0.0 <= self.beta_ema_decay < 1.0:
            raise ValueError(f"beta_ema_decay: must be in [0, 1), got {self.beta_ema_decay}.")
        if self.beta_schedule == "linear" and self.beta_linear_hi <= self.beta_linear_lo:
            raise ValueError("beta_linear_hi: must be greater than beta_linear_lo.")


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available()) or (
        hasattr(torch.backends, "mps") and torch.backends.mps.is_available())


_OWN_FIELDS = {f.name for f in fields(ContinualConfig)} - {f.name for f in fields(GRPOConfig)}


def _check_types(obj, only: set[str] | None = None) -> None:
    """Reject values of the wrong type early (YAML values bypass argparse's conversion), naming the field."""
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        if only is not None and f.name not in only:
            continue
        value, hint = getattr(obj, f.name), hints.get(f.name)
        allowed = tuple(t for t in typing.get_args(hint) or (hint,) if isinstance(t, type))
        if value is None and type(None) in allowed:
            continue
        if float in allowed and isinstance(value, int) and not isinstance(value, bool):
            continue
        if allowed and not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
            wanted = " or ".join(t.__name__ for t in allowed)
            raise TypeError(f"{f.name}: expected {wanted}, got {value!r} ({type(value).__name__}).")
