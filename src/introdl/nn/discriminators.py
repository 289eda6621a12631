"""PatchGAN discriminator (Isola et al., pix2pix 2017; used by CycleGAN and CyCADA).

Instead of one real/fake score per image, a fully convolutional net scores every
overlapping patch: ``(N, C, H, W) -> (N, 1, h, w)`` logits. It judges local texture and
style (what image-to-image translation must get right) with few parameters, and leaves
global layout to the content-preserving losses (cycle, identity, semantic).
Layers: ``layers`` 4x4 stride-2 convolutions (width doubling, instance norm after the
first, LeakyReLU 0.2), then a 3x3 stride-1 convolution to one channel. For 32x32 inputs
the default (2 strided layers) gives an 8x8 grid of patches, each seeing 18x18 pixels.
"""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    """Per-patch real/fake logits.

    Args:
        in_channels: image channels.
        width: filters of the first layer.
        layers: stride-2 convolutions (each halves H and W).

    Shape:
        - Input: ``(N, in_channels, H, W)``; Output: ``(N, 1, H / 2**layers, W / 2**layers)``.
    """

    def __init__(self, in_channels: int = 3, width: int = 32, layers: int = 2) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        ch_in, ch = in_channels, width
        for i in range(layers):
            mods += [nn.Conv2d(ch_in, ch, 4, stride=2, padding=1)]
            if i > 0:
                mods += [nn.InstanceNorm2d(ch)]
            mods += [nn.LeakyReLU(0.2, inplace=True)]
            ch_in, ch = ch, 2 * ch
        mods += [nn.Conv2d(ch_in, 1, 3, padding=1)]
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @staticmethod
    def receptive_field(layers: int = 2) -> int:
        """Input pixels one output logit sees (3x3 head, then each 4x4 stride-2 layer)."""
        rf = 3
        for _ in range(layers):
            rf = (rf - 1) * 2 + 4
        return rf
