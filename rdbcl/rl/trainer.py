"""``ContinualGRPOTrainer``: TRL's ``GRPOTrainer`` whose KL anchor is the policy after the previous task, plus the
small hooks the continual RL methods (``rdbcl``, ``rapo``) share."""

from __future__ import annotations

from pathlib import Path

import torch
from trl import GRPOTrainer

from rdbcl.files import read_json, write_json
from task_streams.base import image_list


# Keys of TRL's batch dict that the model's forward needs besides the token ids (images, their grids, …).
FORWARD_KEYS = ("pixel_values", "image_grid_thw", "pixel_attention_mask", "num_images", "spatial_shapes",
                "image_sizes", "token_type_ids", "mm_token_type_ids", "image_position_ids", "num_tiles")


class ContinualGRPOTrainer(GRPOTrainer):
    """GRPO with the anchor fixed to the weights the task started from (π_{k−1}).

    Full fine-tuning: TRL loads its reference model from ``model.config._name_or_path``; the stream loop points
    that at π_{k−1}'s saved checkpoint. LoRA: π_{k−1} is merged into the base weights, so the reference is the
    model with adapters disabled. When the adapter was already trained (e.g. by an SFT warm-start), TRL would make
    a frozen *copy of that adapter* the reference; we drop that copy so the reference stays π_{k−1}.

    Subclasses keeping state across steps return it from ``checkpoint_state`` (JSON) and take it back in
    ``restore_checkpoint_state``: it is written into each trainer checkpoint, so a resumed task continues exactly.
    """

    STATE_FILE = "method_trainer_state.json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self.accelerator.unwrap_model(self.model)
        if self.beta != 0.0 and hasattr(model, "peft_config") and "ref" in model.peft_config:
            model.delete_adapter("ref")
        self._rewards_per_func: torch.Tensor | None = None

    # ------------------------------------------------------------------------------------ checkpoint state
    def checkpoint_state(self) -> dict | None:
        return None

    def restore_checkpoint_state(self, state: dict) -> None:
        pass

    def _save_checkpoint(self, model, trial):
        # Written before the trainer state that marks a checkpoint complete.
        state = self.checkpoint_state()
        if state is not None and self.args.should_save:
            write_json(Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}" / self.STATE_FILE, state)
        super()._save_checkpoint(model, trial)

    def train(self, resume_from_checkpoint=None, *args, **kwargs):
        if isinstance(resume_from_checkpoint, str):
            saved = read_json(Path(resume_from_checkpoint) / self.STATE_FILE)
            if saved is not None:
                self.restore_checkpoint_state(saved)
        return super().train(resume_from_checkpoint, *args, **kwargs)

    # ------------------------------------------------------------------------------------------------ hooks
    def _generate_and_score_completions(self, inputs):
        # Rows reach TRL with an `images` list, [] for a text-only row (`image_list`); TRL reads it before `image`,
        # which rewards keep receiving.
        if inputs and "image" in inputs[0] and "images" not in inputs[0]:
            inputs = [{**row, "images": image_list(row)} for row in inputs]
        return super()._generate_and_score_completions(inputs)

    def _generate(self, prompts):
        # TRL 1.16 lists a text-only prompt's images as `None` (as vLLM wants them), then hands that list to the
        # processor for the forward pass; Idefics3's cannot take `None` in a batch that mixes image and text-only
        # rows. An empty list is what processors take for an image-less sample (padded to the batch's image count,
        # or flattened away), and TRL counts it as 0 images.
        *outputs, images, tool_images = super()._generate(prompts)
        if images is not None:
            images = [[] if im is None else im for im in images]
        return (*outputs, images, tool_images)

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._rewards_per_func = rewards_per_func  # (N_global, F), already gathered by TRL
        return rewards_per_func

    # ------------------------------------------------------------------------------------------------ helpers
    @property
    def _mode(self) -> str:
        return "train" if self.model.training else "eval"

    @property
    def _group_size(self) -> int:
        return self.num_generations if self._mode == "train" else self.num_generations_eval

    def _gather_rows(self, x: torch.Tensor, pad) -> torch.Tensor:
        """Rows of every process, padded to a common length: the global batch every process maps identically."""
        x = self.accelerator.pad_across_processes(x, dim=1, pad_index=pad)
        return self.accelerator.gather(x)

    def _local_rows(self, n_local: int) -> slice:
        """This process's rows of the global batch."""
        return slice(self.accelerator.process_index * n_local, (self.accelerator.process_index + 1) * n_local)

    def _policy_logps(self, out: dict) -> torch.Tensor:
        """(N_local, T) current policy's log-probs of the sampled tokens: TRL's when it kept them, else one forward."""
        for key in ("old_per_token_logps", "sampling_per_token_logps"):
            if out.get(key) is not None:
                return out[key]
        extra = {k: out[k] for k in FORWARD_KEYS if k in out}
        with torch.no_grad():
            logps, *_ = self._get_per_token_logps_and_entropies(
                self.model, torch.cat([out["prompt_ids"], out["completion_ids"]], 1),
                torch.cat([out["prompt_mask"], out["completion_mask"]], 1), out["completion_ids"].shape[1], **extra)
        return logps
