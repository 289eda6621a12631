"""Vanishing/exploding gradients: the adding problem, gradient decay with distance, clipping."""

from __future__ import annotations

import json
import math

import pytest
import torch
from rich.console import Console

from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.sequences.adding_problem import CHANCE_MSE, LastStateRegressor, adding_problem
from introdl.sequences.experiments.vanishing_gradients import (
    VanishingConfig,
    grad_vs_distance,
    train_steps,
)
from introdl.sequences.lstm import LSTM
from introdl.sequences.rnn import RNN


def test_adding_problem_marks_one_number_in_each_half_and_sums_them():
    x, y = adding_problem(200, 12, torch.Generator().manual_seed(0))
    assert x.shape == (200, 12, 2) and y.shape == (200,)
    marks = x[..., 1]
    assert torch.all(marks[:, :6].sum(1) == 1) and torch.all(marks[:, 6:].sum(1) == 1)
    torch.testing.assert_close(y, (x[..., 0] * marks).sum(1))
    big_y = adding_problem(20_000, 12, torch.Generator().manual_seed(1))[1]
    assert abs(float(big_y.var()) - CHANCE_MSE) < 0.01  # predicting the mean scores 1/6


def test_adding_problem_refuses_too_short_sequences():
    with pytest.raises(ValueError, match="length"):
        adding_problem(4, 1)


@pytest.mark.parametrize("cell", ["tanh", "irnn", "lstm"])
def test_regressor_predicts_one_number_per_sequence(cell):
    assert LastStateRegressor(cell, 8)(torch.randn(5, 7, 2)).shape == (5,)


def test_tanh_gradient_vanishes_with_distance_but_irnn_keeps_it():
    torch.manual_seed(0)
    x, _ = adding_problem(8, 40, torch.Generator().manual_seed(0))
    v = torch.nn.functional.normalize(torch.randn(16), dim=0)
    tanh = grad_vs_distance(RNN(2, 16), v, x)
    irnn = grad_vs_distance(RNN(2, 16, nonlinearity="relu", identity_init=True), v, x)
    lstm = grad_vs_distance(LSTM(2, 16), v, x)
    assert tanh.shape == (41,) and float(tanh[0]) == 1.0
    assert float(tanh[40]) < 1e-4 * float(tanh[5])  # exponential decay with distance
    assert float(irnn[40]) > 0.3
    assert float(lstm[40]) < 1e-3  # an untrained LSTM (forget gate ~ 0.5) vanishes too


def test_clipping_tames_the_exploding_run_that_diverges_without_it():
    cfg = VanishingConfig(hidden_size=32, batch_size=16)
    runs = {}
    for name, clip in (("unclipped", None), ("clipped", 1.0)):
        torch.manual_seed(0)  # the same start and the same batches for both
        model = LastStateRegressor("tanh", 32)
        with torch.no_grad():
            model.rnn.weight_hh_l0.normal_(0.0, 2.0 / math.sqrt(32))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        runs[name] = train_steps(model, opt, 10, cfg, 100, clip, torch.Generator().manual_seed(1))
    un_loss, un_norm = runs["unclipped"]
    cl_loss, cl_norm = runs["clipped"]
    # stopped early: the loss or the gradient norm overflowed
    assert len(un_loss) < 100 and not (math.isfinite(un_loss[-1]) and math.isfinite(un_norm[-1]))
    assert max(n for n in un_norm if math.isfinite(n)) > 1e6
    assert len(cl_loss) == 100 and all(math.isfinite(v) for v in cl_loss + cl_norm)
    final = sum(cl_loss[-20:]) / 20
    assert final < 0.25 * cl_loss[0] and final < 0.3  # trained down to about chance (1/6)


def test_vanishing_experiment_runs_end_to_end(tmp_path):
    out = tmp_path / "r"
    res = run_experiment(
        get("vanishing-gradients"), out=out, quick=True, device="cpu", progress=False,
        console=Console(quiet=True),
        sets=["length=8", "steps=20", "test_size=64", "probe_batch=4",
              "explode_steps=60"])
    m = json.loads((out / "metrics.json").read_text())
    assert m["unclipped_blew_up"] == 1.0
    assert m["irnn_init_grad_ratio"] > m["tanh_init_grad_ratio"]
    for f in ("grad_vs_distance.png", "adding_problem.png", "clipping.png"):
        assert (out / f).stat().st_size > 1000
    assert len(res.claims) == 7
