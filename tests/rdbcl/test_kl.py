"""β schedules and running statistics (DESIGN §3)."""

import pytest
import torch

from rdbcl.rl.kl import RunningStats, gate, per_sample_beta, robust_center_spread


RP = torch.tensor([0.1, 0.4, 0.5, 0.6, 0.9])


@pytest.mark.parametrize("schedule", ["sigmoid", "linear", "threshold"])
def test_protect_gives_higher_beta_to_higher_rp_and_explore_reverses(schedule):
    kwargs = {"center": 0.5, "spread": 0.1}
    protect = per_sample_beta(RP, 0.01, 0.1, schedule, "protect", **kwargs)
    explore = per_sample_beta(RP, 0.01, 0.1, schedule, "explore", **kwargs)
    assert torch.all(protect[1:] >= protect[:-1]) and protect[-1] > protect[0]
    assert torch.all(explore[1:] <= explore[:-1]) and explore[-1] < explore[0]
    for beta in (protect, explore):
        assert ((beta >= 0.01 - 1e-9) & (beta <= 0.1 + 1e-9)).all()


def test_sigmoid_values():
    beta = per_sample_beta(torch.tensor([0.5, 0.6]), 0.0, 1.0, "sigmoid", center=0.5, spread=0.1)
    assert beta.tolist() == pytest.approx([0.5, torch.sigmoid(torch.tensor(1.0)).item()])


def test_linear_and_threshold_values():
    assert gate(torch.tensor([0.0, 0.25, 0.5, 2.0]), "linear", lo=0.0, hi=0.5).tolist() == [0.0, 0.5, 1.0, 1.0]
    assert gate(torch.tensor([0.4, 0.5, 0.6]), "threshold", center=0.5).tolist() == [0.0, 0.0, 1.0]


def test_constant_schedule_is_beta_max_whatever_rp():
    for direction in ("protect", "explore"):
        beta = per_sample_beta(RP, 0.02, 0.05, "constant", direction)
        assert beta.tolist() == pytest.approx([0.05] * 5)


def test_nan_rp_maps_to_the_middle_not_nan():
    beta = per_sample_beta(torch.tensor([float("nan"), 0.5]), 0.0, 0.2, "sigmoid", center=0.5, spread=0.1)
    assert torch.isfinite(beta).all() and beta[0].item() == pytest.approx(0.1)


def test_unknown_names_fail_clearly():
    with pytest.raises(ValueError, match="schedule"):
        per_sample_beta(RP, 0, 1, "cosine")
    with pytest.raises(ValueError, match="direction"):
        per_sample_beta(RP, 0, 1, "sigmoid", "sideways")


def test_robust_stats_and_ema():
    center, spread = robust_center_spread(torch.tensor([0.1, 0.2, 0.3, float("nan")]))
    assert center == pytest.approx(0.2) and spread == pytest.approx(1.4826 * 0.1)
    assert robust_center_spread(torch.tensor([0.3, 0.3])) == pytest.approx((0.3, 1e-3))  # spread floor
    stats = RunningStats(decay=0.5)
    assert stats.update(torch.tensor([0.2, 0.2, 0.2]))[0] == pytest.approx(0.2)
    assert stats.update(torch.tensor([0.6, 0.6, 0.6]))[0] == pytest.approx(0.4)
    assert RunningStats(decay=0.0).update(torch.tensor([0.6]))[0] == pytest.approx(0.6)
