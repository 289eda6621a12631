"""The fixed feature extractor: deterministic, never trained, sensitive to colour and layout."""

from __future__ import annotations

import torch

from introdl.worlds.features import RandomConvFeatures, scene_features
from introdl.worlds.mmd import mmd2


def _scenes(n: int, colour: tuple[float, float, float], horizon: int, seed: int) -> torch.Tensor:
    """Sky above ``horizon``, grey road below, one coloured box at a random place."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 3, 32, 32)
    x[:, 2, :horizon] = 0.8
    x[:, :, horizon:] = 0.4
    for i in range(n):
        r, c = torch.randint(horizon, 26, (1,), generator=gen), torch.randint(0, 24, (1,),
                                                                              generator=gen)
        x[i, :, r:r + 5, c:c + 8] = torch.tensor(colour)[:, None, None]
    return x + 0.02 * torch.randn(x.shape, generator=gen)


def test_fixed_and_deterministic():
    x = torch.rand(4, 3, 32, 32)
    f = scene_features(x)
    assert f.shape == (4, 176) and torch.equal(f, scene_features(x))
    a, b = RandomConvFeatures(), RandomConvFeatures()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not any(p.requires_grad for p in a.parameters())
    assert not torch.equal(a.convs[0].weight, RandomConvFeatures(seed=1).convs[0].weight)


def test_differentiable_in_the_pixels():
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    scene_features(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_mmd_of_features_sees_colour_and_camera_changes():
    base = scene_features(_scenes(40, (1.0, 0.1, 0.1), 12, seed=0))
    same = scene_features(_scenes(40, (1.0, 0.1, 0.1), 12, seed=1))
    colour = scene_features(_scenes(40, (0.1, 0.1, 1.0), 12, seed=1))
    horizon = scene_features(_scenes(40, (1.0, 0.1, 0.1), 18, seed=1))
    d_same = float(mmd2(base, same))
    assert float(mmd2(base, colour)) > 5 * abs(d_same) + 1e-3
    assert float(mmd2(base, horizon)) > 5 * abs(d_same) + 1e-3
