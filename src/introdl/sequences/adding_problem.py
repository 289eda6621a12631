"""The adding problem: a long-range dependency test for recurrent networks.

Hochreiter & Schmidhuber (1997), as used by Le et al. (2015) and Arjovsky et al. (2016).
Each input is a length-T sequence of pairs (u_t, m_t): u_t ~ U(0, 1) and a marker m_t
that is 1 at exactly two positions — one in the first half, one in the second — and 0
elsewhere. The target is the sum of the two marked numbers::

    y = sum_t m_t u_t,        loss = (f(x) - y)^2  (mean squared error)

The first marked number can lie ~T steps before the end, so the network must carry it
across that distance. Predicting the constant 1 (the target's mean) scores
Var(u_a + u_b) = 2/12 ~ 0.167: the chance baseline a model that learned nothing reaches.
"""

from __future__ import annotations

import torch
from torch import nn

CHANCE_MSE = 1.0 / 6.0  # Var(u_a + u_b) for two independent U(0, 1): what predicting 1 scores


def adding_problem(
    n: int, length: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` sequences of length ``length``: inputs (n, T, 2) float32, targets (n,) float32."""
    if length < 2:
        raise ValueError(f"the adding problem needs length >= 2, got {length}")
    u = torch.rand(n, length, generator=generator)  # (n, T) the numbers
    half = length // 2
    first = torch.randint(0, half, (n,), generator=generator)  # marker in the first half
    second = torch.randint(half, length, (n,), generator=generator)  # and in the second
    marks = torch.zeros(n, length)
    rows = torch.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    y = (u * marks).sum(dim=1)  # (n,) u_first + u_second
    return torch.stack([u, marks], dim=-1), y  # (n, T, 2), (n,)


class LastStateRegressor(nn.Module):
    """A recurrent layer that reads the sequence, then a linear read-out of its last state.

    Args:
        cell: ``"tanh"`` (vanilla RNN), ``"irnn"`` (ReLU RNN, W_hh = I, Le et al. 2015)
            or ``"lstm"``. Uses torch's fused layers for speed; the from-scratch
            :mod:`introdl.sequences.rnn` / :mod:`~introdl.sequences.lstm` compute the same.
        hidden_size: H.
        input_size: features per step (2 for the adding problem).

    Inputs: x (B, T, D). Returns: (B,) one prediction per sequence.
    """

    def __init__(self, cell: str, hidden_size: int = 64, input_size: int = 2) -> None:
        super().__init__()
        if cell == "lstm":
            self.rnn: nn.Module = nn.LSTM(input_size, hidden_size, batch_first=True)
        elif cell in ("tanh", "irnn"):
            act = "tanh" if cell == "tanh" else "relu"
            self.rnn = nn.RNN(input_size, hidden_size, nonlinearity=act, batch_first=True)
            if cell == "irnn":  # identity recurrence, zero bias, small input weights
                with torch.no_grad():
                    self.rnn.weight_hh_l0.copy_(torch.eye(hidden_size))
                    self.rnn.bias_hh_l0.zero_()
                    self.rnn.bias_ih_l0.zero_()
                    self.rnn.weight_ih_l0.normal_(0.0, 1e-3)
        else:
            raise ValueError(f"cell must be 'tanh', 'irnn' or 'lstm', got {cell!r}")
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hs, _ = self.rnn(x)  # (B, T, H)
        return self.head(hs[:, -1]).squeeze(-1)  # (B,)
