"""The 2-D loss surface, descent on it, and the gradient-descent experiment end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rich.console import Console

from introdl.experiment import get
from introdl.foundations.landscape import LossSurface, descend
from introdl.runner import run_experiment


def test_surface_has_a_deeper_global_and_a_shallower_local_minimum():
    s = LossSurface()
    w_g, l_g = s.minimum(s.global_center)
    w_l, l_l = s.minimum(s.local_center)
    assert l_g < l_l
    assert np.linalg.norm(w_g - w_l) > 1.0
    for w in (w_g, w_l):  # both are stationary points
        t = torch.tensor(w, requires_grad=True)
        s(t).backward()
        assert t.grad.abs().max() < 1e-6


def test_surface_accepts_batched_points():
    s = LossSurface()
    W1, W2, L = s.grid((-1, 1, -1, 1), n=7)
    assert L.shape == (7, 7)
    assert L[3, 3] == pytest.approx(float(s(torch.zeros(2, dtype=torch.float64))))


def test_one_sgd_step_is_w_minus_lr_times_gradient():
    s, start, lr = LossSurface(), (-2.6, 3.0), 0.3
    path, losses = descend(s, "sgd", lr, 1, start)
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    s(w).backward()
    np.testing.assert_allclose(path[1], (w - lr * w.grad).detach().numpy(), rtol=1e-12)
    assert losses.shape == (2,) and losses[1] < losses[0]


def test_bowl_diverges_exactly_above_two_over_curvature():
    bowl = LossSurface(global_depth=0.0, local_depth=0.0)  # L = q |w|^2, curvature 2q
    limit = 2 / (2 * bowl.q)
    _, below = descend(bowl, "sgd", 0.95 * limit, 100, (1.0, 1.0))
    path, above = descend(bowl, "sgd", 1.05 * limit, 1000, (1.0, 1.0))
    assert below[-1] < 1e-3 * below[0]
    assert above[-1] > 1e3 * above[0]
    assert len(path) < 1001  # stopped at the blow-up guard instead of overflowing


def test_experiment_shows_the_three_learning_rate_regimes(tmp_path):
    r = run_experiment(get("gradient-descent"), out=tmp_path / "r", quick=True, device="cpu",
                       console=Console(quiet=True), progress=False)
    m = r.metrics
    assert m["sgd_small_final_loss"] > m["sgd_good_final_loss"]
    assert m["sgd_good_final_loss"] == pytest.approx(m["global_min_loss"], abs=1e-6)
    assert m["sgd_large_final_loss"] > m["start_loss"]
    assert all(c.passed is not False for c in r.claims)
    assert (tmp_path / "r" / "descent_paths.png").exists()
