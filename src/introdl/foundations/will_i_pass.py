"""Lecture 1's running example: "Will I pass this class?" with a 2 -> 3 -> 1 network.

Inputs are ``x1`` = lectures attended (0..10) and ``x2`` = hours spent on the final
project (0..10). The lecture draws no data, so we state the rule that makes it:

    P(pass | x1, x2) = sigmoid(1.2 x1 + 1.0 x2 - 8),    y ~ Bernoulli(P(pass))

(a lecture counts a little more than an hour of project work; the labels are noisy,
so even the rule itself is right only ~91% of the time). The student of the lecture,
``(4, 5)``, passes under this rule with probability sigmoid(1.8) = 0.86.

The network is the lecture's: ``y_hat = sigmoid(W2 g(W1 x + b1) + b2)`` with three
hidden sigmoid units, trained on the binary cross-entropy
``L = -1/N sum_i [y_i log y_hat_i + (1 - y_i) log(1 - y_hat_i)]``, computed from the
logit (``nn.BCEWithLogitsLoss``) so that ``log 0`` never appears.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class PassRule:
    """The stated ground truth: ``P(pass) = sigmoid(w_lectures x1 + w_hours x2 + bias)``."""

    w_lectures: float = 1.2  # log-odds per lecture attended
    w_hours: float = 1.0  # log-odds per hour on the final project
    bias: float = -8.0  # log-odds of a student with no lectures and no hours
    max_lectures: int = 10  # x1 is drawn uniformly from 0..max_lectures
    max_hours: float = 10.0  # x2 is drawn uniformly from [0, max_hours]

    def prob(self, x: np.ndarray) -> np.ndarray:
        """P(pass) for (N, 2) students ``[lectures, hours]``."""
        z = self.w_lectures * x[..., 0] + self.w_hours * x[..., 1] + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def text(self) -> str:
        return (f"P(pass) = σ({self.w_lectures:g}·lectures + {self.w_hours:g}·hours "
                f"{self.bias:+g}), labels ~ Bernoulli")

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` students ``(X: (n, 2) float32, y: (n,) float32 0/1)`` drawn from the rule."""
        rng = np.random.default_rng(seed)
        x1 = rng.integers(0, self.max_lectures + 1, n)
        x2 = rng.uniform(0.0, self.max_hours, n)
        X = np.stack([x1, x2], axis=1).astype(np.float32)  # (n, 2)
        y = (rng.uniform(size=n) < self.prob(X)).astype(np.float32)
        return X, y


class PassNet(nn.Module):
    """The lecture's 2 -> 3 -> 1 network; ``forward`` returns the output logit.

    Args:
        hidden: hidden units (3 in the lecture).
        scale: inputs are divided by this (the feature ranges) so weights start useful.

    Inputs:
        x: (N, 2) ``[lectures, hours]`` in their natural units.

    Shape:
        output: (N,) logits ``z``; ``predict_proba`` gives ``sigmoid(z)``.
    """

    def __init__(self, hidden: int = 3, scale: tuple[float, float] = (10.0, 10.0)) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale))
        self.hidden = nn.Linear(2, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.sigmoid(self.hidden(x / self.scale))  # (N, hidden)
        return self.out(h).squeeze(-1)  # (N, 1) -> (N,)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self(x))
