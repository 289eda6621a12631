"""The from-scratch LSTM cell and LSTM equal torch's (outputs and gradients, float64)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from introdl.sequences.lstm import LSTM, LSTMCell

TOL = 1e-6


def test_lstm_cell_equals_torch_lstm_cell():
    torch.manual_seed(0)
    ref = nn.LSTMCell(3, 4).double()
    ours = LSTMCell(3, 4).double().load_torch(ref)
    x = torch.randn(5, 3, dtype=torch.float64)
    h0, c0 = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    h1, c1 = ours(x, (h0, c0))
    h2, c2 = ref(x, (h0, c0))
    torch.testing.assert_close(h1, h2, atol=TOL, rtol=0)
    torch.testing.assert_close(c1, c2, atol=TOL, rtol=0)
    (h1.sum() + 2 * c1.sum()).backward()
    (h2.sum() + 2 * c2.sum()).backward()
    torch.testing.assert_close(ours.weight_ih.grad, ref.weight_ih.grad, atol=TOL, rtol=0)
    torch.testing.assert_close(ours.weight_hh.grad, ref.weight_hh.grad, atol=TOL, rtol=0)
    torch.testing.assert_close(ours.bias.grad, ref.bias_ih.grad, atol=TOL, rtol=0)


def test_lstm_outputs_and_gradients_equal_torch():
    torch.manual_seed(1)
    ref = nn.LSTM(3, 6, batch_first=True).double()
    ours = LSTM(3, 6).double().load_torch(ref)
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    h0, c0 = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    hs1, (hT1, cT1) = ours(x1, (h0, c0))
    hs2, (hT2, cT2) = ref(x2, (h0.unsqueeze(0), c0.unsqueeze(0)))
    assert hs1.shape == (4, 9, 6)
    torch.testing.assert_close(hs1, hs2, atol=TOL, rtol=0)
    torch.testing.assert_close(hT1, hT2[0], atol=TOL, rtol=0)
    torch.testing.assert_close(cT1, cT2[0], atol=TOL, rtol=0)
    w = torch.randn_like(hs2)
    ((hs1 * w).sum() + cT1.sum()).backward()
    ((hs2 * w).sum() + cT2.sum()).backward()
    torch.testing.assert_close(x1.grad, x2.grad, atol=TOL, rtol=0)
    cell = ours.cell
    torch.testing.assert_close(cell.weight_ih.grad, ref.weight_ih_l0.grad, atol=TOL, rtol=0)
    torch.testing.assert_close(cell.weight_hh.grad, ref.weight_hh_l0.grad, atol=TOL, rtol=0)
    torch.testing.assert_close(cell.bias.grad, ref.bias_hh_l0.grad, atol=TOL, rtol=0)


def test_gates_follow_torch_order_i_f_g_o():
    """Opening only the forget gate (b_f large, rest closed) must keep c unchanged."""
    cell = LSTMCell(2, 3).double()
    with torch.no_grad():
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
        cell.bias.copy_(torch.tensor([-50.0] * 3 + [50.0] * 3 + [0.0] * 3 + [50.0] * 3))
    c0 = torch.randn(1, 3, dtype=torch.float64)
    h, c = cell(torch.randn(1, 2, dtype=torch.float64), (torch.zeros(1, 3).double(), c0))
    torch.testing.assert_close(c, c0)  # f = 1, i = 0: c_t = c_{t-1}
    torch.testing.assert_close(h, torch.tanh(c0))  # o = 1


def test_forget_bias_shifts_only_the_forget_gate():
    torch.manual_seed(0)
    a = LSTMCell(2, 3)
    torch.manual_seed(0)
    b = LSTMCell(2, 3, forget_bias=1.0)
    diff = b.bias - a.bias
    torch.testing.assert_close(diff, torch.tensor([0.0] * 3 + [1.0] * 3 + [0.0] * 6))


def test_multilayer_torch_lstm_is_refused():
    with pytest.raises(ValueError, match="one-layer"):
        LSTM(2, 3).load_torch(nn.LSTM(2, 3, num_layers=2))
