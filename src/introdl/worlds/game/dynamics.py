"""GameGAN's dynamics engine: an action-conditioned LSTM over the game's cell grid.

GameGAN (Kim et al. 2020) keeps the game's state in an LSTM whose previous hidden state is
multiplied by an embedding of the action (``v = h * H(a)``) before the gates are computed from
``v``, the encoded frame, the memory read and a noise vector ``z`` (the game's randomness:
here, where the ghosts go). GameGAN's LSTM is flat; this one is a convolutional LSTM over the
``G x G`` cell grid (3x3 gates), so that moving a piece one cell is a local operation a CPU
learns in seconds. The action also multiplies the encoded frame (the outer product
``s x a``, the multiplicative action interaction of Oh et al. 2015), so the very first step,
where ``h`` is still zero, can already move a piece in the action's direction. The noise is
one value per cell and step (``noise`` maps).
"""

from __future__ import annotations

import torch
from torch import nn


class ActionConvLSTM(nn.Module):
    """One step: ``(s, a, z, m, (h, c)) -> (h, c)`` with ``s`` (B, S, G, G) the encoded frame,
    ``a`` (B, A) one-hot action, ``z`` (B, Z, G, G) noise, ``m`` (B, D) the memory read."""

    def __init__(self, frame_channels: int, actions: int, noise: int, memory: int,
                 hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.action_gain = nn.Linear(actions, hidden)  # H(a): multiplies h, per channel
        inputs = frame_channels * (1 + actions) + actions + noise + memory + hidden
        self.gates = nn.Conv2d(inputs, 4 * hidden, 3, padding=1)

    def initial(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, g, w = like.shape
        zero = like.new_zeros(b, self.hidden, g, w)
        return zero, zero

    def forward(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor, m: torch.Tensor,
                state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        g = s.shape[-1]
        v = h * (1 + torch.tanh(self.action_gain(a)))[:, :, None, None]
        grid = lambda t: t[:, :, None, None].expand(-1, -1, g, g)  # noqa: E731
        sa = (s[:, None] * a[:, :, None, None, None]).flatten(1, 2)  # s x a
        i, f, o, u = self.gates(torch.cat([s, sa, grid(a), z, grid(m), v], 1)).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(u)
        return torch.sigmoid(o) * torch.tanh(c), c
