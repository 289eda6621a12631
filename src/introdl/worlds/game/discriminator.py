"""GameGAN's action-conditioned discriminator: is ``x_next`` what follows ``x`` under ``a``?

A small convolutional net on the two frames and the action broadcast over the image (its
first layer looks at one grid cell at a time, stride = pixels per cell); it returns one
logit per pair. (GameGAN adds single-frame and temporal discriminators; this one
carries the action signal that matters here.)
"""

from __future__ import annotations

import torch
from torch import nn


class ActionDiscriminator(nn.Module):
    def __init__(self, actions: int, size: int, pixels: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(6 + actions, 32, pixels, stride=pixels), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 32, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 1, size // pixels))

    def forward(self, x: torch.Tensor, x_next: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        s = x.shape[-1]
        grid = a[:, :, None, None].expand(-1, -1, s, s)
        return self.net(torch.cat([x, x_next, grid], 1)).flatten()
