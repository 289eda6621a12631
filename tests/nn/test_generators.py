"""ResNet generator and PatchGAN discriminator: shapes, value range, identity start."""

import pytest
import torch

from introdl.nn.discriminators import PatchDiscriminator
from introdl.nn.generators import ResBlock, ResnetGenerator


@pytest.mark.parametrize("downsample", [1, 2])
def test_generator_keeps_the_image_size_and_outputs_pixels_in_0_1(downsample):
    torch.manual_seed(0)
    g = ResnetGenerator(width=4, blocks=1, downsample=downsample)
    y = g(torch.rand(2, 3, 32, 32))
    assert y.shape == (2, 3, 32, 32)
    assert y.min() >= 0 and y.max() <= 1


def test_residual_generator_starts_as_the_identity_and_then_learns_a_change():
    torch.manual_seed(0)
    g = ResnetGenerator(width=4, blocks=1, residual=True)
    x = torch.rand(2, 3, 16, 16) * 0.9 + 0.05
    torch.testing.assert_close(g(x), x, atol=1e-5, rtol=0)
    opt = torch.optim.Adam(g.parameters(), lr=1e-2)
    for _ in range(20):  # learn to invert the image
        loss = (g(x) - (1 - x)).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (g(x) - x).abs().mean() > 0.05


def test_resblock_is_shape_preserving_and_residual():
    block = ResBlock(6)
    for p in block.body.parameters():
        torch.nn.init.zeros_(p)
    x = torch.randn(1, 6, 8, 8)
    torch.testing.assert_close(block(x), x)  # zero body -> exactly the skip


def test_residual_generator_refuses_mismatched_channels():
    with pytest.raises(ValueError, match="in_channels == out_channels"):
        ResnetGenerator(in_channels=1, out_channels=3, residual=True)


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_patch_discriminator_gives_one_logit_per_patch(layers):
    d = PatchDiscriminator(width=4, layers=layers)
    out = d(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 1, 32 // 2**layers, 32 // 2**layers)


def test_patch_logit_sees_only_its_receptive_field():
    torch.manual_seed(0)
    assert PatchDiscriminator.receptive_field(2) == 18  # 3 -> (3-1)*2+4 = 8 -> (8-1)*2+4 = 18
    # one layer (no instance norm, whose statistics span the whole image)
    d = PatchDiscriminator(width=4, layers=1).eval()
    rf = PatchDiscriminator.receptive_field(1)
    x = torch.rand(1, 3, 64, 64, requires_grad=True)
    d(x)[0, 0, 0, 0].backward()  # top-left patch
    rows = (x.grad.abs().sum((0, 1, 3)) > 0).nonzero().flatten()
    assert rows.max().item() + 1 <= rf  # nothing beyond the receptive field moves it
    assert rows.max().item() + 1 > rf // 2
