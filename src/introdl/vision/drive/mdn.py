"""Mixture density network head and its loss (Lecture 3, end-to-end driving; Bishop 1994).

The head maps features to a mixture of ``K`` Gaussians over the steering angle ``y``::

    p(y | x) = sum_k pi_k N(y; mu_k, sigma_k^2),   pi = softmax(logits),  sigma = exp(log_std)

and is trained by the negative log-likelihood, computed stably with log-sum-exp::

    NLL = -log sum_k exp( log pi_k - log sigma_k - log(2 pi)/2 - (y - mu_k)^2 / (2 sigma_k^2) )

averaged over the batch. Where one input allows several actions (a fork, seen without
the route) the mixture keeps them as separate modes; a single-output regressor trained
with squared error predicts their mean instead.
"""

from __future__ import annotations

import math

import torch
from torch import nn

Mixture = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # logits, means, log_stds: (B, K)


class MDNHead(nn.Module):
    """Args: in_features; k: number of mixture components; min_log_std: floor on log sigma.

    Shape: (B, in_features) -> (logits, means, log_stds), each (B, k).
    """

    def __init__(self, in_features: int, k: int = 3, min_log_std: float = -4.0) -> None:
        super().__init__()
        self.k, self.min_log_std = k, min_log_std
        self.proj = nn.Linear(in_features, 3 * k)

    def forward(self, h: torch.Tensor) -> Mixture:
        logits, means, log_stds = self.proj(h).chunk(3, dim=-1)  # (B, 3k) -> 3 x (B, k)
        return logits, means, log_stds.clamp(min=self.min_log_std)


class MDNLoss(nn.Module):
    """Mean negative log-likelihood of targets ``y`` (B,) under the mixture (see module doc)."""

    def forward(self, mixture: Mixture, y: torch.Tensor) -> torch.Tensor:
        logits, means, log_stds = mixture
        log_pi = logits.log_softmax(dim=-1)
        z = (y[:, None] - means) / log_stds.exp()  # (B, K)
        log_n = -log_stds - 0.5 * math.log(2 * math.pi) - 0.5 * z**2
        return -torch.logsumexp(log_pi + log_n, dim=-1).mean()


def mixture_density(mixture: Mixture, grid: torch.Tensor) -> torch.Tensor:
    """p(y) on ``grid`` (G,) for each item: (B, G)."""
    logits, means, log_stds = mixture
    z = (grid[None, :, None] - means[:, None, :]) / log_stds.exp()[:, None, :]  # (B, G, K)
    log_n = -log_stds[:, None, :] - 0.5 * math.log(2 * math.pi) - 0.5 * z**2
    return torch.logsumexp(logits.log_softmax(-1)[:, None, :] + log_n, dim=-1).exp()


def count_modes(density: torch.Tensor, rel: float = 0.1) -> torch.Tensor:
    """Local maxima of each density row (B, G) at least ``rel`` times the row's maximum: (B,)."""
    d = density
    peak = (d[:, 1:-1] > d[:, :-2]) & (d[:, 1:-1] >= d[:, 2:])
    tall = d[:, 1:-1] >= rel * d.max(dim=1, keepdim=True).values
    return (peak & tall).sum(dim=1)


def mode_positions(density: torch.Tensor, grid: torch.Tensor,
                   rel: float = 0.1) -> list[list[float]]:
    """Where each density row (B, G) has a local maximum at least ``rel`` times its max."""
    d = density
    peak = (d[:, 1:-1] > d[:, :-2]) & (d[:, 1:-1] >= d[:, 2:])
    tall = d[:, 1:-1] >= rel * d.max(dim=1, keepdim=True).values
    inner = grid[1:-1]
    return [inner[row].tolist() for row in (peak & tall)]


def most_likely_mean(mixture: Mixture) -> torch.Tensor:
    """The mean of the heaviest component, per item (B,): the action a controller takes."""
    logits, means, _ = mixture
    return means.gather(1, logits.argmax(dim=1, keepdim=True)).squeeze(1)
