"""Style-modulated layers: an MLP that turns a style code into AdaIN parameters, and a residual
block whose normalisations are AdaIN layers (MUNIT, Huang et al. 2018; FUNIT, Liu et al. 2019).

    (mean_1, std_1, ..., mean_L, std_L) = MLP(style code)
    AdaINResBlock(x; m1, s1, m2, s2) = x + AdaIN(conv(relu(AdaIN(conv(x); m1, s1))); m2, s2)

The decoder's feature maps thus take, layer by layer, the per-channel statistics the code
asks for -- the "style" -- while their spatial layout comes from the content. The std is
``1 + raw`` so that a zero code starts as plain instance normalisation.
"""

from __future__ import annotations

import torch
from torch import nn

from introdl.nn.adain import AdaIN


class AdaINParams(nn.Module):
    """Style code ``(N, code)`` -> ``count`` pairs of per-channel ``(mean, std)``, each ``(N, C)``.

    Args:
        code: style-code width.
        channels: ``C`` of every AdaIN layer it feeds.
        count: number of AdaIN layers.
        hidden: width of the MLP's hidden layers (two, ReLU).
    """

    def __init__(self, code: int, channels: int, count: int, hidden: int = 64) -> None:
        super().__init__()
        self.channels, self.count = channels, count
        self.mlp = nn.Sequential(nn.Linear(code, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, 2 * channels * count))

    def forward(self, code: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        raw = self.mlp(code).view(len(code), self.count, 2, self.channels)
        return [(raw[:, i, 0], 1.0 + raw[:, i, 1]) for i in range(self.count)]


class AdaINResBlock(nn.Module):
    """Shape-preserving residual block with two AdaIN layers: ``(N, C, H, W) -> (N, C, H, W)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3))
        self.conv2 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3))
        self.norm = AdaIN()

    def forward(self, x: torch.Tensor, first: tuple[torch.Tensor, torch.Tensor],
                second: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        h = torch.relu(self.norm(self.conv1(x), *first))
        return x + self.norm(self.conv2(h), *second)
