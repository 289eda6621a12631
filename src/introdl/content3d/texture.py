"""Texture lookup: bilinear sampling of a texture image at interpolated UV coordinates.

UV follows the OBJ convention: u runs left to right, v bottom to top, both in [0, 1], so v = 1
is the texture's first row. Sampling is bilinear through :func:`torch.nn.functional.grid_sample`
(texel centres, ``align_corners=False``, clamped at the border), differentiable w.r.t. both the
UVs (hence the vertices) and the texture.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def sample_texture(uv: Tensor, texture: Tensor) -> Tensor:
    """Colours (B, H, W, C) of ``texture`` (B, C, Ht, Wt) at ``uv`` (B, H, W, 2) in [0, 1]."""
    if texture.shape[0] == 1 and uv.shape[0] > 1:
        texture = texture.expand(uv.shape[0], *texture.shape[1:])
    grid = torch.stack([uv[..., 0] * 2 - 1, 1 - uv[..., 1] * 2], dim=-1).to(texture)
    out = F.grid_sample(texture, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.permute(0, 2, 3, 1)
