"""How noisy a mini-batch gradient is (Lecture 1, "Mini-batches while training").

Stochastic gradient descent replaces the full-batch gradient
``g = (1/N) sum_i grad L_i(W)`` by the mean over a random mini-batch ``B``,
``g_B = (1/|B|) sum_{i in B} grad L_i(W)``. ``g_B`` is unbiased, and its variance

    E ||g_B - g||^2 = (sigma^2 / |B|) * (N - |B|) / (N - 1)

falls as ``1/|B|`` (the second factor is the finite-population correction for
batches drawn without replacement; it is ~1 while ``|B| << N`` and 0 at ``|B| = N``).
:func:`minibatch_gradient_variance` measures the left-hand side by sampling.
"""

from __future__ import annotations

import torch
from torch import nn


def flat_grad(model: nn.Module, loss_fn: nn.Module, x: torch.Tensor,
              y: torch.Tensor) -> torch.Tensor:
    """The gradient of ``loss_fn(model(x), y)`` w.r.t. all parameters, as one vector (P,)."""
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss_fn(model(x), y), params)
    return torch.cat([g.reshape(-1) for g in grads])  # (P,)


def minibatch_gradient_variance(
    model: nn.Module,
    loss_fn: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    n_samples: int,
    generator: torch.Generator | None = None,
) -> float:
    """Mean squared distance ``E ||g_B - g||^2`` between mini-batch and full-batch gradients.

    Args:
        model: evaluated at its current weights (not changed).
        loss_fn: a mean-reduced loss, so that ``g`` and ``g_B`` are on the same scale.
        x, y: the whole training set (the full batch).
        batch_size: ``|B|``; each batch is drawn uniformly without replacement.
        n_samples: how many mini-batch gradients to average over.
        generator: seeds the batch draws.

    Shape:
        - x: ``(N, *)``, y: ``(N,)``; ``1 <= batch_size <= N``.
    """
    n = len(x)
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
    g_full = flat_grad(model, loss_fn, x, y)
    total = 0.0
    for _ in range(n_samples):
        idx = torch.randperm(n, generator=generator)[:batch_size]
        g_b = flat_grad(model, loss_fn, x[idx], y[idx])
        total += float((g_b - g_full).pow(2).sum())
    return total / n_samples


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (-1 means ``y ~ 1/x``)."""
    lx = torch.log(torch.tensor(xs, dtype=torch.float64))
    ly = torch.log(torch.tensor(ys, dtype=torch.float64))
    lx_c = lx - lx.mean()
    return float((lx_c * (ly - ly.mean())).sum() / lx_c.pow(2).sum())
