"""π₀ of the reasoning testbed: a seeded, cached build (in miniature: a few steps of each stage)."""

import json

import pytest
import torch
from safetensors.torch import load_file

from rdbcl.testbed.reasoning_base import ReasoningBaseRecipe, ensure_reasoning_base
from task_streams.digit_reasoning import FoundationMix, foundation_skills


MINI = ReasoningBaseRecipe(mix=FoundationMix(n_read=16, n_image_ops=8, n_open=8, n_symbol=8, n_named=4,
                                             text_repeats=1),
                           vision_steps=3, vision_rows=32, vision_batch_size=8, steps=3, batch_size=4, warmup_steps=0,
                           skill_rows=4)


def _weights(path):
    return load_file(str(path / "model.safetensors"))


def test_build_is_deterministic_for_a_seed_and_cached(tmp_path):
    threads = torch.get_num_threads()
    with pytest.warns(UserWarning, match=r"π₀ missed skills of its foundation mix .*'text_sum'"):  # 3 steps: none
        first, seconds = ensure_reasoning_base(MINI, tmp_path / "a")
    assert torch.get_num_threads() == threads  # the build pins its own thread count (MINI.threads), then restores it
    again, cached = ensure_reasoning_base(MINI, tmp_path / "a")
    other, _ = ensure_reasoning_base(MINI, tmp_path / "b")
    assert again == first and cached == 0.0 and seconds > 0
    a, b = _weights(first), _weights(other)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    log = json.loads((first / "pretraining.json").read_text())
    assert log["recipe"]["steps"] == 3 and len(log["vision_loss"]) >= 1 and log["build_s"] > 0
    assert any("loss" in entry for entry in log["foundation_log"])
    assert log["skills"].keys() == {task.name for task in foundation_skills(MINI.mix)}  # scored after the build
    assert all(0.0 <= acc <= 100.0 and acc * MINI.skill_rows / 100 == round(acc * MINI.skill_rows / 100)
               for acc in log["skills"].values())  # a percentage of 4 rows
    assert not list((tmp_path / "a").glob("*.tmp*"))  # built in a temporary directory, then renamed


def test_activation_checkpointing_would_change_only_the_time(tmp_path, monkeypatch):
    """The build turns TRL's activation checkpointing off (12 % of the full build's foundation stage on 2 cores)
    without a new cache name: with it on, the same recipe gives bit-identical weights."""
    import trl

    real, seen = trl.SFTConfig, []

    def checkpointed(**kwargs):
        config = real(**{**kwargs, "activation_checkpointing": True})
        seen.append(config.gradient_checkpointing)
        return config

    with pytest.warns(UserWarning, match="π₀ missed skills"):
        plain, _ = ensure_reasoning_base(MINI, tmp_path / "plain")
        monkeypatch.setattr(trl, "SFTConfig", checkpointed)
        recomputed, _ = ensure_reasoning_base(MINI, tmp_path / "recomputed")
    assert seen == [True]
    a, b = _weights(plain), _weights(recomputed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_another_seed_or_setting_is_another_model(tmp_path):
    import dataclasses

    reseeded = dataclasses.replace(MINI, seed=1)
    assert reseeded.cache_name() != MINI.cache_name()
    assert dataclasses.replace(MINI, steps=4).cache_name() != MINI.cache_name()
    assert dataclasses.replace(MINI, threads=1).cache_name() != MINI.cache_name()  # may round to other weights
    assert dataclasses.replace(MINI, skill_rows=9).cache_name() == MINI.cache_name()  # scores the weights only
    assert dataclasses.replace(MINI.mix, named_known=3).key() != MINI.mix.key()
    unnamed = dataclasses.replace(MINI.mix, n_named=0)
    assert dataclasses.replace(unnamed, named_known=3).key() == unnamed.key()  # no named rows: no effect
    a, _ = ensure_reasoning_base(MINI, tmp_path)
    b, _ = ensure_reasoning_base(reseeded, tmp_path)
    wa, wb = _weights(a), _weights(b)
    assert any(not torch.equal(wa[k], wb[k]) for k in wa)
