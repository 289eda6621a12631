"""A risk score: the Lecture 1 dense network regressing one label from patient features.

The same network and recipe fit either label (next year's cost, or next year's need), so
the only difference between the two scores is the label, which is the point of
:mod:`introdl.health.experiments.proxy_bias`. Features and the label are standardised
on the training set; the score is returned in the label's own units.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from introdl.nn.mlp import MLP


def fit_risk_score(x: np.ndarray, y: np.ndarray, *, seed: int, epochs: int = 25,
                   hidden: tuple[int, ...] = (64, 64), batch_size: int = 256,
                   lr: float = 1e-3) -> Callable[[np.ndarray], np.ndarray]:
    """Train ``MLP(hidden)`` with Adam on the mean squared error; return ``x -> score``."""
    torch.manual_seed(seed)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    y_mu, y_sd = float(y.mean()), float(y.std()) + 1e-9
    xt = torch.tensor((x - mu) / sd, dtype=torch.float32)
    yt = torch.tensor((y - y_mu) / y_sd, dtype=torch.float32)
    net = MLP(x.shape[1], hidden, 1)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch_size):
            b = perm[i:i + batch_size]
            loss = F.mse_loss(net(xt[b])[:, 0], yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()

    def score(x_new: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = net(torch.tensor((x_new - mu) / sd, dtype=torch.float32))[:, 0]
        return out.numpy().astype(np.float64) * y_sd + y_mu

    return score
