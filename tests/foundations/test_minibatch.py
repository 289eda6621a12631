"""Mini-batch gradient noise (against its closed form) and the minibatch experiment end to end."""

import json

import pytest
import torch
from rich.console import Console
from torch import nn

from introdl.experiment import get
from introdl.foundations.experiments.minibatch import timed_sgd
from introdl.foundations.gradient_noise import (
    flat_grad,
    loglog_slope,
    minibatch_gradient_variance,
)
from introdl.runner import run_experiment


@pytest.fixture
def problem():
    torch.manual_seed(0)
    x = torch.randn(48, 5)
    y = x[:, :3].argmax(1)  # learnable labels
    return nn.Linear(5, 3), nn.CrossEntropyLoss(), x, y


def test_variance_matches_the_without_replacement_formula(problem):
    model, loss_fn, x, y = problem
    n = len(x)
    per_example = torch.stack([flat_grad(model, loss_fn, x[i:i + 1], y[i:i + 1])
                               for i in range(n)])  # (N, P)
    g = per_example.mean(0)
    torch.testing.assert_close(g, flat_grad(model, loss_fn, x, y))  # full batch = mean
    sigma2 = (per_example - g).pow(2).sum(1).mean()
    gen = torch.Generator().manual_seed(0)
    for b in (2, 8):
        exact = float(sigma2 / b * (n - b) / (n - 1))
        est = minibatch_gradient_variance(model, loss_fn, x, y, b, 400, gen)
        assert est == pytest.approx(exact, rel=0.15)


def test_variance_falls_with_batch_size_and_vanishes_at_full_batch(problem):
    model, loss_fn, x, y = problem
    gen = torch.Generator().manual_seed(1)
    var = [minibatch_gradient_variance(model, loss_fn, x, y, b, 200, gen) for b in (1, 4, 16)]
    assert var[0] > var[1] > var[2] > 0
    assert minibatch_gradient_variance(model, loss_fn, x, y, len(x), 3, gen) < 1e-12
    with pytest.raises(ValueError):
        minibatch_gradient_variance(model, loss_fn, x, y, len(x) + 1, 3, gen)


def test_loglog_slope_recovers_a_power_law():
    xs = [1.0, 2.0, 4.0, 8.0, 16.0]
    assert loglog_slope(xs, [3.0 / v for v in xs]) == pytest.approx(-1.0)
    assert loglog_slope(xs, [v**0.5 for v in xs]) == pytest.approx(0.5)


def test_timed_sgd_stops_at_the_target_and_reports_the_time(problem):
    model, loss_fn, x, y = problem
    with torch.no_grad():
        start = float(loss_fn(model(x), y))
    tr = timed_sgd(model, x, y, 8, 0.5, target=start - 0.1, budget=5.0, evals_per_epoch=4,
                   seed=0)
    assert tr.reached_at is not None and 0 < tr.reached_at < 5.0
    assert tr.loss[0] == pytest.approx(start) and tr.loss[-1] <= start - 0.1
    assert tr.seconds == sorted(tr.seconds)
    never = timed_sgd(model, x, y, 8, 0.01, target=0.0, budget=0.05, evals_per_epoch=4, seed=0)
    assert never.reached_at is None and never.seconds[-1] >= 0.05


def test_minibatch_experiment_end_to_end(tmp_path):
    sets = {"n_train": 300, "batch_sizes": (0, 1, 32), "lrs": (0.3,), "budget_seconds": 0.15,
            "target_loss": 1.0, "variance_batch_sizes": (1, 4, 16, 64), "variance_samples": 20}
    r = run_experiment(get("minibatch"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert -1.3 < m["variance_slope"] < -0.7
    assert m["grad_variance_b1"] > m["grad_variance_b64"]
    assert {"gradient_variance.png", "loss_vs_wallclock.png"} <= set(r.figures)
    assert all((tmp_path / "r" / f).stat().st_size > 0 for f in r.figures)
    assert m["minibatch_fastest"] in (0.0, 1.0)
