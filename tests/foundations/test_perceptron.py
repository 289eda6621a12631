"""The perceptron: the lecture's numbers, NumPy/torch parity, and the experiment end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rich.console import Console

from introdl.experiment import get
from introdl.foundations.perceptron import Perceptron, perceptron_numpy
from introdl.runner import run_experiment


def test_lecture_example_gives_minus_six_and_sigmoid():
    z, y = perceptron_numpy(np.array([-1.0, 2.0]), 1.0, np.array([3.0, -2.0]))
    assert z == pytest.approx(-6.0)
    assert y == pytest.approx(1 / (1 + np.exp(6.0)))


def test_numpy_and_module_agree_on_a_batch():
    x = np.random.default_rng(0).normal(size=(20, 3))
    module = Perceptron.from_weights(0.5, (1.0, -2.0, 0.25))
    _, y_np = perceptron_numpy(x, 0.5, np.array([1.0, -2.0, 0.25]))
    with torch.no_grad():
        y_t = module(torch.tensor(x, dtype=torch.float32)).numpy()
    assert y_t.shape == (20,)
    np.testing.assert_allclose(y_t, y_np, atol=1e-6)


def test_output_is_above_half_exactly_on_the_positive_side_of_the_line():
    module = Perceptron.from_weights(1.0, (3.0, -2.0))
    x = torch.tensor([[0.0, 0.0], [-1.0, 2.0], [1.0, 1.9], [1.0, 2.1]])
    y = module(x)
    z = 1 + 3 * x[:, 0] - 2 * x[:, 1]
    assert torch.equal(y > 0.5, z > 0)


def test_experiment_checks_claims_and_draws_the_plane(tmp_path):
    r = run_experiment(get("perceptron"), out=tmp_path / "r", quick=True, device="cpu",
                       console=Console(quiet=True), progress=False)
    assert r.passed
    assert (tmp_path / "r" / "feature_space.png").stat().st_size > 10_000
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["z"] == pytest.approx(-6.0)


def test_experiment_reports_a_failed_claim_for_other_weights(tmp_path):
    r = run_experiment(get("perceptron"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["w0=2"], console=Console(quiet=True), progress=False)
    assert r.metrics["z"] == pytest.approx(-5.0)
    assert not r.passed
