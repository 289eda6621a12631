"""A small ResNet-block image-to-image generator (CycleGAN's, Zhu et al. 2017, scaled down).

    x -> c7s1-w -> d x downsample -> R x blocks -> u x downsample -> c7s1-3 -> sigmoid

``c7s1-k``: 7x7 convolution, stride 1, ``k`` filters, instance norm, ReLU; ``d``: 3x3
stride-2 convolution; ``R``: a residual block of two 3x3 convolutions; ``u``: a 3x3
stride-1/2 transposed convolution. Reflection padding keeps borders free of artefacts.
The output is a sigmoid, so images stay in 0..1 like every digit domain's pixels.
With ``residual=True`` the network predicts a change of the pixels,
``G(x) = clamp(x + r(x), 0, 1)``, and its last layer starts at zero, so an untrained
generator is the identity (cycle and identity losses start at 0) and a short CPU
budget is spent on the change of look, not on learning to copy (a residual generator as
in Bousmalis et al.'s PixelDA, 2017; CycleGAN's own has no such skip).
CycleGAN's generator for 256x256 images has width 64, two downsamplings and 9 blocks;
the default here (width 16, one downsampling, 3 blocks) is sized for 32x32 digits on a CPU.
Reused by later lectures (3D content) for any image -> image mapping.
"""

from __future__ import annotations

import torch
from torch import nn


class ResBlock(nn.Module):
    """``x + conv(relu(norm(conv(x))))``, shape-preserving: ``(N, C, H, W) -> (N, C, H, W)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image -> image of the same size, through ResNet blocks at reduced resolution.

    Args:
        in_channels, out_channels: image channels in and out.
        width: filters of the first layer (doubled at each downsampling).
        blocks: residual blocks at the lowest resolution.
        downsample: stride-2 steps (H and W must be divisible by ``2**downsample``).
        residual: predict ``G(x) - x``, zero at initialisation (needs
            ``in_channels == out_channels`` and inputs in 0..1). A change in logit space
            was tried first: MNIST's pixels sit at 0 and 1, where the sigmoid is flat,
            and the generator never moved.
        noise: channels of uniform 0..1 per-pixel noise appended to the input (PixelDA's
            noise input, Bousmalis et al. 2017), so that a plain black background can map
            to a different texture per draw. A generator may learn to ignore it (pix2pix
            saw that; so did ``cycada`` on MNIST -> MNIST-M in 300 CPU steps).

    Shape:
        - Input: ``(N, in_channels, H, W)``; Output: ``(N, out_channels, H, W)`` in 0..1.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, width: int = 16,
                 blocks: int = 3, downsample: int = 1, residual: bool = False,
                 noise: int = 0) -> None:
        super().__init__()
        if residual and in_channels != out_channels:
            raise ValueError("a residual generator needs in_channels == out_channels")
        self.residual, self.noise = residual, noise
        layers: list[nn.Module] = [nn.ReflectionPad2d(3),
                                   nn.Conv2d(in_channels + noise, width, 7),
                                   nn.InstanceNorm2d(width), nn.ReLU(inplace=True)]
        ch = width
        for _ in range(downsample):
            layers += [nn.Conv2d(ch, 2 * ch, 3, stride=2, padding=1), nn.InstanceNorm2d(2 * ch),
                       nn.ReLU(inplace=True)]
            ch *= 2
        layers += [ResBlock(ch) for _ in range(blocks)]
        for _ in range(downsample):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1),
                       nn.InstanceNorm2d(ch // 2), nn.ReLU(inplace=True)]
            ch //= 2
        last = nn.Conv2d(ch, out_channels, 7)
        if residual:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, nn.ReflectionPad2d(3), last)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """``G(x)``; ``z`` ``(N, noise, H, W)`` is the noise (drawn from torch's RNG if None)."""
        inp = x
        if self.noise:
            if z is None:
                z = torch.rand(len(x), self.noise, *x.shape[2:], device=x.device)
            inp = torch.cat([x, z], 1)
        out = self.net(inp)
        if self.residual:
            return (x + out).clamp(0.0, 1.0)  # gradient flows where 0 <= x + r <= 1
        return torch.sigmoid(out)
