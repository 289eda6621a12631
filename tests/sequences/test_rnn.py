"""The from-scratch RNN equals torch.nn.RNN (outputs and gradients, float64)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from introdl.sequences.rnn import RNN

TOL = 1e-6


def _pair(nonlinearity: str, D: int = 3, H: int = 5):
    torch.manual_seed(0)
    ref = nn.RNN(D, H, nonlinearity=nonlinearity, batch_first=True).double()
    ours = RNN(D, H, nonlinearity=nonlinearity).double().load_torch(ref)
    return ours, ref


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_outputs_and_gradients_equal_torch(nonlinearity):
    ours, ref = _pair(nonlinearity)
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    h0 = torch.randn(4, 5, dtype=torch.float64)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_ours, h_ours = ours(x1, h0)
    y_ref, h_ref = ref(x2, h0.unsqueeze(0))
    assert y_ours.shape == (4, 7, 5)
    torch.testing.assert_close(y_ours, y_ref, atol=TOL, rtol=0)
    torch.testing.assert_close(h_ours, h_ref[0], atol=TOL, rtol=0)
    w = torch.randn_like(y_ref)  # a random loss mixes every output
    (y_ours * w).sum().backward()
    (y_ref * w).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, atol=TOL, rtol=0)
    torch.testing.assert_close(ours.W_xh.weight.grad, ref.weight_ih_l0.grad, atol=TOL, rtol=0)
    torch.testing.assert_close(ours.W_hh.weight.grad, ref.weight_hh_l0.grad, atol=TOL, rtol=0)
    # b = b_ih + b_hh, so dL/db equals each of torch's two bias gradients
    torch.testing.assert_close(ours.W_xh.bias.grad, ref.bias_ih_l0.grad, atol=TOL, rtol=0)
    torch.testing.assert_close(ours.W_xh.bias.grad, ref.bias_hh_l0.grad, atol=TOL, rtol=0)


def test_rnn_output_layer_is_W_hy_times_h():
    ours, _ = _pair("tanh")
    ours.W_hy = nn.Linear(5, 2, bias=False).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    y, h = ours(x)
    assert y.shape == (2, 4, 2)
    torch.testing.assert_close(y[:, -1], h @ ours.W_hy.weight.T)


def test_step_is_the_lecture_equation():
    ours, _ = _pair("tanh")
    x_t = torch.randn(2, 3, dtype=torch.float64)
    h = torch.randn(2, 5, dtype=torch.float64)
    expected = torch.tanh(h @ ours.W_hh.weight.T + x_t @ ours.W_xh.weight.T + ours.W_xh.bias)
    torch.testing.assert_close(ours.step(x_t, h), expected)


def test_irnn_starts_as_identity_recurrence():
    rnn = RNN(2, 6, nonlinearity="relu", identity_init=True)
    assert torch.equal(rnn.W_hh.weight, torch.eye(6))
    assert torch.count_nonzero(rnn.W_xh.bias) == 0
    h = torch.rand(1, 6)
    torch.testing.assert_close(rnn.step(torch.zeros(1, 2), h), h)  # relu(I h) = h for h >= 0


def test_bad_nonlinearity_and_mismatched_torch_rnn_are_refused():
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="one-layer"):
        RNN(2, 3).load_torch(nn.RNN(2, 3, num_layers=2))


def test_rnn_from_scratch_experiment_reports_parity(tmp_path):
    import json

    from rich.console import Console

    from introdl.experiment import get
    from introdl.runner import run_experiment

    res = run_experiment(get("rnn-from-scratch"), out=tmp_path / "r", quick=True, device="cpu",
                         progress=False, console=Console(quiet=True),
                         sets=["batch=2", "steps=12", "hidden_size=8"])
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["rnn_grad_max_abs_err"] <= 1e-6 and m["lstm_grad_max_abs_err"] <= 1e-6
    assert all(c.passed for c in res.claims if c.claim.metric)
    assert (tmp_path / "r" / "trajectories.png").stat().st_size > 1000
