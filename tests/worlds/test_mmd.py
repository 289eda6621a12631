"""MMD^2: matches a direct double loop, ~0 for one distribution, grows with a shift."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from introdl.worlds.mmd import median_bandwidth, mmd2


def _loop_mmd2(x: np.ndarray, y: np.ndarray, bandwidths) -> float:
    def k(a, b):
        return sum(np.exp(-np.sum((a - b) ** 2) / (2 * s * s)) for s in bandwidths)

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def test_matches_a_direct_double_loop():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(0.5, 1.2, size=(5, 3))
    for bw in ((1.0,), (0.5, 2.0, 4.0)):
        got = float(mmd2(torch.tensor(x), torch.tensor(y), bw))
        assert got == pytest.approx(_loop_mmd2(x, y, bw), rel=1e-9, abs=1e-12)


def test_median_heuristic_is_the_pooled_median_distance():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(4, 2))
    z = np.concatenate([x, y])
    d = [np.linalg.norm(z[i] - z[j]) for i in range(10) for j in range(10) if i != j]
    med = median_bandwidth(torch.tensor(x), torch.tensor(y))
    assert med == pytest.approx(float(torch.tensor(d).median()), rel=1e-9)
    got = float(mmd2(torch.tensor(x), torch.tensor(y)))
    assert got == pytest.approx(_loop_mmd2(x, y, (0.5 * med, med, 2 * med)), rel=1e-9)


def test_near_zero_for_one_distribution_and_larger_for_a_shift():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 5, generator=gen), torch.randn(200, 5, generator=gen)
    same = float(mmd2(x, y))
    shifted = [float(mmd2(x, y + d)) for d in (0.25, 0.5, 1.0)]
    assert abs(same) < 0.01
    assert shifted[0] > 5 * abs(same) and shifted[0] < shifted[1] < shifted[2]


def test_differentiable_and_shape_checked():
    x = torch.randn(8, 4, requires_grad=True)
    mmd2(x, torch.randn(9, 4) + 1).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="samples"):
        mmd2(torch.randn(4, 3), torch.randn(4, 2))
