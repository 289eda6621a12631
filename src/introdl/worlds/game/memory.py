"""GameGAN's memory module: a map of the level the model writes and reads by location.

The memory ``M`` holds one ``D``-vector per grid cell. An attention map ``alpha`` (sums to 1
over the cells) is GameGAN's "where the agent is": each step it is moved by a 3x3 kernel
``K = softmax(W [a, h_alpha])`` computed from the action and the dynamics state read at the
old location (so a wall in the way can keep it in place), exactly GameGAN's location-based
addressing. At that location the module writes (NTM-style erase ``e`` and add ``v`` vectors
from the dynamics state: ``M <- M * (1 - alpha e) + alpha v``) and reads ``m = sum alpha M``
for the next dynamics step. The whole ``M`` is the static part the renderer draws.

Start (our choice, stated): ``M`` is written from the first frame everywhere (the level is
fully visible in a Pac-Man frame), and ``alpha`` starts at a softmax over cells of the first
frame's encoding (learned to find the agent).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GridMemory(nn.Module):
    """Location logits (start and shift kernel) start at zero (uniform) and are scaled by
    ``sharpness``: a peaked softmax needs logit gaps of ~5, which Adam's small steps reach
    only after thousands of updates otherwise."""

    sharpness = 10.0

    def __init__(self, frame_channels: int, hidden: int, actions: int, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.first_write = nn.Conv2d(frame_channels, dim, 1)
        self.locate = nn.Conv2d(frame_channels, 1, 1)
        self.kernel = nn.Sequential(nn.Linear(actions + hidden, 32), nn.ReLU(),
                                    nn.Linear(32, 9))
        for layer in (self.locate, self.kernel[-1]):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.erase = nn.Linear(hidden, dim)
        self.add = nn.Linear(hidden, dim)

    def initial(self, s0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(M, alpha, m)`` from the first frame's encoding ``s0`` (B, S, G, G)."""
        memory = self.first_write(s0)
        b, _, g, _ = s0.shape
        logits = self.sharpness * self.locate(s0).flatten(1)
        alpha = torch.softmax(logits, 1).view(b, 1, g, g)
        return memory, alpha, read(memory, alpha)

    def forward(self, memory: torch.Tensor, alpha: torch.Tensor, h: torch.Tensor,
                a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step: shift ``alpha`` by the action kernel, write at it, read at it."""
        logits = self.sharpness * self.kernel(torch.cat([a, read(h, alpha)], 1))
        kernel = torch.softmax(logits, 1)
        alpha = shift(alpha, kernel.view(-1, 1, 3, 3))
        at = read(h, alpha)
        e = torch.sigmoid(self.erase(at))[:, :, None, None]
        v = torch.tanh(self.add(at))[:, :, None, None]
        memory = memory * (1 - alpha * e) + alpha * v
        return memory, alpha, read(memory, alpha)


def read(grid: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``sum_cells alpha * grid``: (B, C, G, G), (B, 1, G, G) -> (B, C)."""
    return (grid * alpha).sum((2, 3))


def shift(alpha: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Move each map's mass by its own 3x3 kernel (B, 1, 3, 3); mass off the grid is lost
    and the map renormalised."""
    b, _, g, w = alpha.shape
    out = F.conv2d(alpha.view(1, b, g, w), kernel, padding=1, groups=b).view(b, 1, g, w)
    return out / out.sum((2, 3), keepdim=True).clamp_min(1e-8)
