"""REINFORCE for categorical rules: unbiased gradient, and convergence on a 2-rule toy grammar."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from introdl.worlds.reinforce import CategoricalRules, linear_mmd2, one_hot_counts, toy_grammar_fit


def test_score_function_gradient_matches_the_exact_gradient():
    # E[w_x] for x ~ softmax(theta): REINFORCE's mean gradient equals autograd's exact one
    w = np.array([1.0, -2.0, 0.5, 3.0])
    rules = CategoricalRules({"a": [0.1, 0.2, 0.3, 0.4]}, baseline="loo")
    theta = rules.logits["a"]
    exact = torch.autograd.grad((torch.softmax(theta, 0) * torch.tensor(w)).sum(), theta)[0]
    rng = np.random.default_rng(0)
    x = rng.choice(4, size=200_000, p=rules.probs()["a"])
    counts = {"a": np.eye(4)[x]}
    adv = rules.advantages(w[x])
    est = torch.autograd.grad(-rules.surrogate(counts, adv), theta)[0]
    assert torch.allclose(est, exact, atol=0.02)
    wrong = torch.autograd.grad(-rules.surrogate(counts, -adv), theta)[0]
    assert not torch.allclose(wrong, exact, atol=0.02)  # the check can fail


def test_linear_mmd_is_unbiased_and_counts_are_right():
    rng = np.random.default_rng(1)
    x = rng.normal(0.3, 1.0, size=(20000, 2))
    y = rng.normal(0.0, 1.0, size=(30000, 2))
    assert linear_mmd2(x, y) == pytest.approx(2 * 0.3**2, abs=0.015)
    a, b = x[:7], y[:5]  # against the kernel-matrix formula
    kxx, kyy = a @ a.T, b @ b.T
    direct = ((kxx.sum() - np.trace(kxx)) / 42 + (kyy.sum() - np.trace(kyy)) / 20
              - 2 * (a @ b.T).mean())
    assert linear_mmd2(a, b) == pytest.approx(direct, rel=1e-10)
    assert one_hot_counts(np.array([[0, 2, 2], [1, 1, 1]]), 3).tolist() == [[1, 0, 2],
                                                                           [0, 3, 0]]


@pytest.mark.parametrize("baseline", ["loo", "ema"])
def test_reinforce_on_a_two_rule_toy_grammar_converges_to_the_target(baseline):
    target = {"lanes": [0.1, 0.3, 0.6], "building": [0.2, 0.8]}
    start = {"lanes": [0.6, 0.3, 0.1], "building": [0.7, 0.3]}
    rules, rewards = toy_grammar_fit(target, start, steps=250, lr=0.05, baseline=baseline)
    p = rules.probs()
    for k in target:
        assert np.abs(p[k] - np.asarray(target[k])).max() < 0.06, (k, p[k])
    assert np.mean(rewards[-30:]) > np.mean(rewards[:10])


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match="baseline"):
        CategoricalRules({"a": [1, 1]}, baseline="mean")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weights"):
        CategoricalRules({"a": [1.0]})
    with pytest.raises(ValueError, match="counts"):
        CategoricalRules({"a": [1, 1]}).log_prob({"a": np.ones((3, 3))})
