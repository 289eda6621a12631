"""Adaptive instance normalisation (Huang & Belongie, 2017): a content map in a style's statistics.

    AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y)

with ``mu``/``sigma`` the per-sample, per-channel mean and standard deviation over H, W.
The output keeps ``x``'s spatial layout (its normalised pattern) and takes ``y``'s
per-channel mean and standard deviation -- the "style" of a feature map. Used by
style-transfer decoders, MUNIT-style translators and StyleGAN's per-layer styles.
"""

from __future__ import annotations

import torch
from torch import nn


def channel_stats(x: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and std over H, W: each ``(N, C, 1, 1)``."""
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return mean, std


def adain(content: torch.Tensor, style: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``content`` ``(N, C, H, W)`` normalised, then scaled and shifted to ``style``'s statistics.

    ``style`` is ``(N, C, H', W')`` (any spatial size); to give the statistics directly
    (e.g. from a style code), use :class:`AdaIN`.
    """
    c_mean, c_std = channel_stats(content, eps)
    s_mean, s_std = channel_stats(style, eps)
    return (content - c_mean) / c_std * s_std + s_mean


class AdaIN(nn.Module):
    """AdaIN with the style given as per-channel ``(mean, std)`` (e.g. from an MLP on a code).

    Shape:
        - ``content``: ``(N, C, H, W)``; ``mean``, ``std``: ``(N, C)``; output as ``content``.
    """

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, content: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
                ) -> torch.Tensor:
        c_mean, c_std = channel_stats(content, self.eps)
        return (content - c_mean) / c_std * std[:, :, None, None] + mean[:, :, None, None]
