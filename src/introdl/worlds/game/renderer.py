"""GameGAN's rendering engine: draws the static map from memory and the moving pieces from the
dynamics state, and blends them with a predicted mask.

``frame = mask * dynamic + (1 - mask) * static``, as GameGAN's renderer composes a static
component (from the memory) and a dynamic one (from the LSTM state). Each grid cell's
``pixels x pixels`` patch is decoded from that cell's vector by a transposed convolution of
stride ``pixels`` (the game draws cell by cell). Without a memory (the ablation) the static
part is decoded from the dynamics state too.
"""

from __future__ import annotations

import torch
from torch import nn


def _cell_decoder(inputs: int, outputs: int, pixels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, 32, 1), nn.LeakyReLU(0.2),
                         nn.ConvTranspose2d(32, outputs, pixels, stride=pixels))


class Renderer(nn.Module):
    def __init__(self, hidden: int, memory: int, pixels: int) -> None:
        super().__init__()
        self.static = _cell_decoder(memory if memory else hidden, 3, pixels)
        self.dynamic = _cell_decoder(hidden + 1, 4, pixels)

    def forward(self, h: torch.Tensor, alpha: torch.Tensor, memory: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(frame (B, 3, H, W) in [0, 1], mask (B, 1, H, W), dynamic part (B, 3, H, W))``."""
        static = torch.sigmoid(self.static(memory if memory is not None else h))
        out = self.dynamic(torch.cat([h, alpha], 1))
        rgb, mask = torch.sigmoid(out[:, :3]), torch.sigmoid(out[:, 3:])
        return mask * rgb + (1 - mask) * static, mask, rgb
