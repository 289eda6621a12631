"""Will I pass: the stated data rule, the 2-3-1 network, and the experiment end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rich.console import Console

from introdl.experiment import get
from introdl.foundations.will_i_pass import PassNet, PassRule
from introdl.runner import run_experiment


def test_rule_gives_the_lecture_student_a_pass_probability_of_0_86():
    assert PassRule().prob(np.array([[4.0, 5.0]]))[0] == pytest.approx(1 / (1 + np.exp(-1.8)))


def test_sampled_labels_follow_the_rule():
    rule = PassRule()
    X, y = rule.sample(20_000, seed=3)
    assert X.shape == (20_000, 2) and y.shape == (20_000,)
    assert set(np.unique(X[:, 0])) <= set(range(rule.max_lectures + 1))
    assert 0 <= X[:, 1].min() and X[:, 1].max() <= rule.max_hours
    assert y.mean() == pytest.approx(rule.prob(X).mean(), abs=0.01)  # Bernoulli(P(pass))
    X2, y2 = rule.sample(20_000, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_passnet_is_two_three_one_with_logit_output():
    net = PassNet()
    assert [tuple(p.shape) for p in net.parameters()] == [(3, 2), (3,), (1, 3), (1,)]
    x = torch.tensor([[4.0, 5.0], [0.0, 0.0]])
    assert net(x).shape == (2,)
    torch.testing.assert_close(net.predict_proba(x), torch.sigmoid(net(x)))


def test_experiment_trains_and_draws_regions(tmp_path):
    r = run_experiment(get("will-i-pass"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["epochs=15", "n_test=500"], console=Console(quiet=True),
                       progress=False)
    m = r.metrics
    assert m["final_train_loss"] < m["first_train_loss"]
    assert m["test_acc"] > 0.8  # the rule itself scores ~0.91; chance (always pass) ~0.7
    assert m["trained_pred"] != m["untrained_pred"]
    assert (tmp_path / "r" / "decision_regions.png").exists()
