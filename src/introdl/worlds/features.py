"""A fixed image feature extractor for comparing rendered and real scenes (Meta-Sim's MMD).

Meta-Sim compares synthetic and real images in the feature space of a fixed network. No
pretrained ImageNet weights can be downloaded here, so the extractor is *fixed by
construction* and never trained, on real images or anything else:

- **colour layout** (48 numbers): the mean RGB colour of each cell of a 4 x 4 grid
  (adaptive average pooling): where the sky, road and cars are and what colour they are;
- **random-CNN texture** (128 numbers): three 3 x 3 conv layers (3 -> 16 -> 32 -> 32
  channels, stride 2, ReLU) with weights drawn once from a seeded generator (Kaiming
  normal, ``seed=0``), average-pooled over a 2 x 2 grid. Random convolutional features
  are a fair fixed descriptor of edges and blobs (Jarrett et al. 2009; Saxe et al. 2011).

Each block is divided by the square root of its length and the CNN block by a fixed
constant so both contribute comparable squared distances. :func:`scene_features` is
differentiable in the images (Meta-Sim's finite differences need d features / d pixels).
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn
from torch.nn import functional as F

FEATURE_SEED = 0  # the generator seed of the random CNN's weights
CNN_SCALE = 0.1  # fixed rescaling of the CNN block (about its activations' typical size)


class RandomConvFeatures(nn.Module):
    """Seeded random-weight CNN: (N, 3, H, W) -> (N, 32, H/8, W/8) ReLU maps. Never trained."""

    def __init__(self, seed: int = FEATURE_SEED) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        chans = (3, 16, 32, 32)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1)
                                   for a, b in zip(chans[:-1], chans[1:], strict=True))
        with torch.no_grad():
            for conv in self.convs:
                fan_in = conv.in_channels * 9
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen)
                                  * (2.0 / fan_in) ** 0.5)
                conv.bias.zero_()
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x - 0.5  # centre pixels in [0, 1]
        for conv in self.convs:
            x = F.relu(conv(x))
        return x


@lru_cache(maxsize=1)
def _cnn() -> RandomConvFeatures:
    return RandomConvFeatures().eval()


def scene_features(images: torch.Tensor) -> torch.Tensor:
    """Fixed features (N, 176) of images (N, 3, H, W) with pixels in [0, 1]; differentiable."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"scene_features needs (N, 3, H, W) images, got {tuple(images.shape)}")
    images = images.float()
    colour = F.adaptive_avg_pool2d(images, 4).flatten(1)  # (N, 48)
    texture = F.adaptive_avg_pool2d(_cnn()(images), 2).flatten(1) / CNN_SCALE  # (N, 128)
    return torch.cat([colour / colour.shape[1] ** 0.5, texture / texture.shape[1] ** 0.5], 1)
