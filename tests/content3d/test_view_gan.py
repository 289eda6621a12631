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
    image_quality,
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
    g2 = ViewGenerator(content_dim=8, size=32, width=8, resize_conv=True)
    assert any(isinstance(m, torch.nn.Upsample) for m in g2.modules())
    assert not any(isinstance(m, torch.nn.Upsample) for m in g.modules())
    with torch.no_grad():
        assert g2(v, torch.randn(3, 8)).shape == (3, 4, 32, 32)
    with pytest.raises(ValueError, match="4 \\* 2"):
        ViewGenerator(size=24)


def test_view_code_and_angular_error():
    v = view_code(torch.tensor([0.0, 90.0, 270.0]))
    assert torch.allclose(v, torch.tensor([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]]), atol=1e-6)
    err = angular_error_deg(v, torch.tensor([350.0, 100.0, 80.0]))
    assert torch.allclose(err, torch.tensor([10.0, 10.0, 170.0]), atol=1e-4)
    assert circular_spread_deg(view_code(torch.tensor([350.0, 10.0]))) == pytest.approx(10.0)
    assert modal_share(torch.tensor([1, 1, 2, 3])) == 0.5


def test_sample_content_is_seeded_and_interpolates_between_codes():
    codes = torch.randn(400, 3) * torch.tensor([1.0, 2.0, 0.5]) + torch.tensor([1.0, 0.0, -1.0])
    a, b = sample_content(codes, 4000, seed=1), sample_content(codes, 4000, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, sample_content(codes, 4000, seed=2))
    assert torch.allclose(a.mean(0), codes.mean(0), atol=0.15)
    # inside the codes' box, and narrower than the codes (a mean of two: about 0.8 of the std)
    assert bool((a >= codes.min(0).values).all() and (a <= codes.max(0).values).all())
    assert bool((a.std(0) < 0.9 * codes.std(0)).all() and (a.std(0) > 0.6 * codes.std(0)).all())
    # every sample lies on the segment between two distinct codes
    two = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    s = sample_content(two, 50, seed=0)
    assert torch.allclose(s[:, 1], 2 * s[:, 0], atol=1e-6) and float(s[:, 0].std()) > 0.1


def test_image_quality_is_perfect_on_the_truth_and_drops_off_it():
    mask = torch.zeros(2, 3, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1
    rgb = (mask * 0.7).expand(-1, -1, 3, -1, -1).clone()

    class Copy(torch.nn.Module):  # a "generator" that returns the true render of content i
        def __init__(self, shift: int) -> None:
            super().__init__()
            self.shift = shift

        def forward(self, v, z):
            i = z[:, 0].long()
            j = torch.round(torch.rad2deg(torch.atan2(v[:, 0], v[:, 1])) / 90).long() % 3
            img = torch.cat([rgb[i, j], mask[i, j]], 1)
            return torch.roll(img, self.shift, dims=-1)

    codes = torch.tensor([[0.0], [1.0]])
    az = torch.tensor([0.0, 90.0, 180.0]).expand(2, 3)
    q = image_quality(Copy(0), codes, rgb, mask, az)
    assert q["alpha_iou"] == pytest.approx(1.0) and q["colour_error"] == pytest.approx(0.0)
    q = image_quality(Copy(4), codes, rgb, mask, az)
    assert q["alpha_iou"] == pytest.approx(4 / 12) and q["colour_error"] > 0.1


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
