"""The view/content generator: shapes, codes, sampling of new contents, and that it fits renders."""

from __future__ import annotations

import pytest
import torch

from introdl.content3d.view_gan import (
    ViewDiscriminator,
    ViewGANConfig,
    ViewGenerator,
    angular_error_deg,
    circular_spread_deg,
    generate_views,
    modal_share,
    sample_content,
    train_view_gan,
    view_code,
)


def test_generator_and_discriminator_shapes():
    g, d = ViewGenerator(content_dim=8, size=32, width=8), ViewDiscriminator(size=32, width=8)
    v = view_code(torch.tensor([0.0, 90.0, 180.0]))
    with torch.no_grad():
        x = g(v, torch.randn(3, 8))
    assert x.shape == (3, 4, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert d(x, v).shape == (3,)
    with pytest.raises(ValueError, match="4 \\* 2"):
        ViewGenerator(size=24)


def test_view_code_and_angular_error():
    v = view_code(torch.tensor([0.0, 90.0, 270.0]))
    assert torch.allclose(v, torch.tensor([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]]), atol=1e-6)
    err = angular_error_deg(v, torch.tensor([350.0, 100.0, 80.0]))
    assert torch.allclose(err, torch.tensor([10.0, 10.0, 170.0]), atol=1e-4)
    assert circular_spread_deg(view_code(torch.tensor([350.0, 10.0]))) == pytest.approx(10.0)
    assert modal_share(torch.tensor([1, 1, 2, 3])) == 0.5


def test_sample_content_is_seeded_and_matches_the_codes_gaussian():
    codes = torch.randn(400, 3) * torch.tensor([1.0, 2.0, 0.5]) + torch.tensor([1.0, 0.0, -1.0])
    a, b = sample_content(codes, 4000, seed=1), sample_content(codes, 4000, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, sample_content(codes, 4000, seed=2))
    assert torch.allclose(a.mean(0), codes.mean(0), atol=0.15)
    assert torch.allclose(a.std(0), codes.std(0), rtol=0.1)


def test_training_fits_the_renders():
    torch.manual_seed(0)
    n, k = 4, 4
    rgb = torch.zeros(n, k, 3, 16, 16)
    mask = torch.zeros(n, k, 1, 16, 16)
    for i in range(n):  # a square whose colour is the object and whose place is the view
        for j in range(k):
            mask[i, j, :, 4:10, 2 + 2 * j:8 + 2 * j] = 1
            rgb[i, j] = mask[i, j] * torch.tensor([i / 3, 1 - i / 3, 0.5]).view(3, 1, 1)
    az = torch.arange(k, dtype=torch.float32).expand(n, k) * 90
    gan = train_view_gan(rgb, mask, az, ViewGANConfig(steps=150, batch=16, width=8,
                                                      content_dim=4, adv_weight=0.05), seed=0)
    assert gan.codes.shape == (n, 4)
    assert sum(gan.losses[-10:]) / 10 < 0.5 * sum(gan.losses[:10]) / 10
    img, alpha = generate_views(gan.generator, gan.codes, az[0])
    assert img.shape == (n, k, 3, 16, 16) and alpha.shape == (n, k, 1, 16, 16)
    assert float((alpha - mask).abs().mean()) < 0.15
