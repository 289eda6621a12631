"""Data augmentation as a module at the front of a model: active in training, identity in eval.

Kept inside the model (like input standardisation), so the engine's fast tensor path
needs no per-example transform, every random draw comes from torch's global RNG (which
``fit`` checkpoints, so a resumed run draws the same shifts), and evaluation never sees
it.
"""

from __future__ import annotations

import torch
from torch import nn


class RandomShiftFlip(nn.Module):
    """Shift each image by up to ``shift`` pixels (zero fill) and mirror half of them.

    Each example gets its own shift ``(dy, dx)``, drawn uniformly from
    ``[-shift, shift]^2``, and its own coin for a left-right flip (``flip=True``): the
    usual augmentation for Fashion-MNIST, whose clothes keep their class when mirrored.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: the same shape.
    """

    def __init__(self, shift: int = 2, flip: bool = True) -> None:
        super().__init__()
        if shift < 0:
            raise ValueError(f"shift must be 0 or more, got {shift}")
        self.shift, self.flip = shift, flip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        n, _, h, w = x.shape
        if self.flip:
            mirror = torch.rand(n, device=x.device) < 0.5
            x = torch.where(mirror[:, None, None, None], x.flip(-1), x)
        if self.shift:
            s = self.shift
            padded = nn.functional.pad(x, (s, s, s, s))  # (N, C, H + 2s, W + 2s), zeros
            dy, dx = torch.randint(0, 2 * s + 1, (2, n, 1), device=x.device)
            rows = (torch.arange(h, device=x.device) + dy)[:, None, :, None]  # (N,1,H,1)
            cols = (torch.arange(w, device=x.device) + dx)[:, None, None, :]  # (N,1,1,W)
            batch = torch.arange(n, device=x.device)[:, None, None, None]
            chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
            x = padded[batch, chans, rows, cols]
        return x

    def extra_repr(self) -> str:
        return f"shift={self.shift}, flip={self.flip}"
