"""Lecture 1: the perceptron, a single neuron.

    y_hat = g(w0 + sum_j x_j w_j) = g(w0 + x . w),    g = sigmoid = 1 / (1 + e^-z)

The line ``z = w0 + x . w = 0`` splits the feature space into the half-plane where
``z > 0`` (``y_hat > 0.5``) and the one where ``z < 0`` (``y_hat < 0.5``). The lecture's
example: ``w0 = 1, w = (3, -2)`` and ``x = (-1, 2)`` give ``z = 1 - 3 - 4 = -6`` and
``y_hat = sigmoid(-6) ~ 0.002``.

Two forms, tested to agree: :func:`perceptron_numpy` (the formula as written) and
:class:`Perceptron` (an ``nn.Module`` built on ``nn.Linear``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from introdl.scratch.layers import sigmoid


def perceptron_numpy(x: np.ndarray, w0: float, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(z, y_hat)`` with ``z = w0 + x . w`` and ``y_hat = sigmoid(z)``.

    Shape:
        x: (m,) or (N, m); w: (m,); z and y_hat: () or (N,).
    """
    z = w0 + np.asarray(x) @ np.asarray(w)
    return z, sigmoid(z)


class Perceptron(nn.Module):
    """One neuron: ``sigmoid(w0 + x . w)``.

    Args:
        n_inputs: number of features ``m``.

    Inputs:
        x: (N, m) features.

    Shape:
        output: (N,) probabilities. ``logit(x)`` gives ``z`` before the sigmoid.
    """

    def __init__(self, n_inputs: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_inputs, 1)  # weight = w (1, m), bias = w0

    @classmethod
    def from_weights(cls, w0: float, w: list[float] | tuple[float, ...]) -> Perceptron:
        """A perceptron with the given bias ``w0`` and weights ``w`` (e.g. the lecture's)."""
        p = cls(len(w))
        with torch.no_grad():
            p.linear.weight.copy_(torch.tensor([w], dtype=torch.float32))
            p.linear.bias.fill_(w0)
        return p

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)  # (N, 1) -> (N,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(x))
