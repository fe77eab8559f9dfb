"""RP estimators on hand-made tensors (DESIGN §2)."""

import math

import pytest
import torch

from rdbcl.rl.portability import (
    PortabilityInputs,
    available_estimators,
    get_estimator,
    register_estimator,
)


def _inputs(ref, rewards, g, mask=None, policy=None, **kw):
    ref = torch.tensor(ref, dtype=torch.float32)
    mask = torch.ones_like(ref) if mask is None else torch.tensor(mask, dtype=torch.float32)
    policy = None if policy is None else torch.tensor(policy, dtype=torch.float32)
    return PortabilityInputs(ref_logps=ref, mask=mask, rewards=torch.tensor(rewards, dtype=torch.float32),
                             num_generations=g, policy_logps=policy, **kw)


def test_anchor_likelihood_hand_computed():
    # prompt 0: completions 0 (correct, mean logp -0.5) and 1 (wrong); prompt 1: both correct (-1, -3 over 2 tokens)
    inp = _inputs(ref=[[-0.5, -0.5], [-9.0, -9.0], [-1.0, -1.0], [-2.0, -4.0]], rewards=[1, 0, 1, 1], g=2)
    rp = get_estimator("anchor_likelihood")(inp)
    assert rp.tolist() == pytest.approx([math.exp(-0.5), (math.exp(-1.0) + math.exp(-3.0)) / 2])


def test_correct_rollouts_likely_under_anchor_give_higher_rp():
    # both prompts have one correct rollout; under the anchor it is likely for prompt 0, unlikely for prompt 1
    inp = _inputs(ref=[[-0.1, -0.2], [-6.0, -6.0], [-6.0, -5.0], [-0.1, -0.1]], rewards=[1, 0, 1, 0], g=2)
    rp = get_estimator("anchor_likelihood")(inp)
    assert rp[0] > 0.8 and rp[1] < 0.01


def test_padding_is_ignored():
    inp = _inputs(ref=[[-1.0, -50.0], [-1.0, -1.0]], mask=[[1, 0], [1, 1]], rewards=[1, 1], g=2)
    assert get_estimator("anchor_likelihood")(inp).item() == pytest.approx(math.exp(-1.0))


@pytest.mark.parametrize("fallback, expected", [("uniform", (math.exp(-1.0) + math.exp(-2.0)) / 2), ("zero", 0.0)])
def test_all_wrong_group_uses_fallback_without_nan(fallback, expected):
    inp = _inputs(ref=[[-1.0], [-2.0]], rewards=[0, 0], g=2, fallback=fallback)
    rp = get_estimator("anchor_likelihood")(inp)
    assert torch.isfinite(rp).all() and rp.item() == pytest.approx(expected)


def test_non_finite_log_probs_and_rewards_never_give_nan():
    nan, inf = float("nan"), float("inf")
    inp = _inputs(ref=[[nan, -1.0], [-inf, -1.0], [inf, 0.0], [nan, nan]], rewards=[1, 1, nan, 1], g=2)
    inp.anchor_pass_rate = torch.tensor([nan, nan, 0.5, 0.5])
    for name in ("anchor_likelihood", "policy_agreement", "anchor_pass_rate"):
        if name == "policy_agreement":
            inp.policy_logps = torch.tensor([[nan, 0.0], [0.0, inf], [0.0, 0.0], [nan, nan]])
        rp = get_estimator(name)(inp)
        assert torch.isfinite(rp).all() and ((rp >= 0) & (rp <= 1)).all(), name
    rp = get_estimator("anchor_likelihood")(inp)
    # prompt 0: completion 0 has a NaN token (dropped: exp(-1)), completion 1 a -inf token (probability 0)
    assert rp[0].item() == pytest.approx(math.exp(-1.0) / 2)
    # prompt 1: the only correct completion has no usable token (all NaN): probability 0, not 1
    assert rp[1].item() == 0.0


def test_policy_agreement():
    ref = [[-1.0, -1.0], [-2.0, -2.0], [-1.0, -1.0], [-2.0, -2.0]]
    same = [[-1.0, -1.0], [-2.0, -2.0], [-1.5, -0.5], [-3.0, -3.0]]
    rp = get_estimator("policy_agreement")(_inputs(ref=ref, rewards=[1, 1, 1, 1], g=2, policy=same))
    assert rp[0].item() == pytest.approx(1.0)
    assert rp[1].item() == pytest.approx(math.exp(-(0.5 + 1.0) / 2))
    with pytest.raises(ValueError, match="policy_logps"):
        get_estimator("policy_agreement")(_inputs(ref=ref, rewards=[1, 1, 1, 1], g=2))


def test_user_estimators_register_by_name():
    @register_estimator("length_prior_test")
    def length_prior(inp):
        return inp.mask.sum(-1).view(-1, inp.num_generations).mean(-1) / inp.mask.shape[1]

    assert "length_prior_test" in available_estimators()
    assert get_estimator("length_prior_test")(_inputs(ref=[[0.0, 0.0]] * 2, rewards=[1, 1], g=2)).item() == 1.0
    with pytest.raises(KeyError, match="anchor_likelihood"):
        get_estimator("nope")


def test_groups_must_divide():
    with pytest.raises(ValueError, match="num_generations"):
        get_estimator("anchor_likelihood")(_inputs(ref=[[0.0]] * 3, rewards=[1, 1, 1], g=2))


def test_anchor_pass_rate_is_the_groups_rate():
    inp = _inputs(ref=[[0.0]] * 4, rewards=[0, 0, 0, 0], g=2)
    inp.anchor_pass_rate = torch.tensor([0.25, 0.25, float("nan"), float("nan")])
    assert get_estimator("anchor_pass_rate")(inp).tolist() == [0.25, 0.0]
    inp.anchor_pass_rate = None
    with pytest.raises(ValueError, match="anchor_pass_rate"):
        get_estimator("anchor_pass_rate")(inp)
