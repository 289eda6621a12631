"""Where a classifier looks: Captum saliency maps and the share that falls on the lesion.

Two attribution methods from Captum, both for the model's "malignant" logit:

- plain gradients (``Saliency``): |d logit / d pixel|;
- integrated gradients (``IntegratedGradients``): the path integral of the gradient
  from a baseline to the image, times (image - baseline). The baseline here is a plain
  patch of the image's own median colour (per channel): "the same skin with no lesion
  and no marks", so the attribution says what the image has that plain skin does not.
  A black baseline (``baseline="black"``) would credit every bright skin pixel for
  simply being bright, but it is the one that can show a model reading skin tone.

Per pixel, the attribution is summed in absolute value over the colour channels.
:func:`mask_share` is the share of a map's total inside a region (the lesion mask, or
a marker artefact's pixels); compare it with the region's share of the image area
(:func:`area_share`), which is what a map spread evenly would give.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from captum.attr import IntegratedGradients, Saliency
from torch import nn

Method = Literal["ig", "grad"]


def median_baseline(x: torch.Tensor) -> torch.Tensor:
    """Per image and channel, a constant patch of the image's median colour."""
    med = x.flatten(2).median(dim=2).values
    return med[:, :, None, None].expand_as(x).contiguous()


def attribution_maps(model: nn.Module, images, method: Method, *, ig_steps: int = 32,
                     batch_size: int = 64, baseline: str = "median") -> np.ndarray:
    """(n, H, W) maps of |attribution| summed over channels, for output column 0.

    Args:
        baseline: integrated gradients' baseline, ``median`` (the image's median colour)
            or ``black`` (zeros). A median baseline shares the image's skin tone, so IG
            cannot credit the tone itself; a black one can.
    """
    if baseline not in ("median", "black"):
        raise ValueError(f"unknown baseline {baseline!r}; use median or black")
    model.eval()
    x_all = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    out = []
    for i in range(0, len(x_all), batch_size):
        x = x_all[i:i + batch_size].clone().requires_grad_(True)
        if method == "ig":
            attr = IntegratedGradients(model).attribute(
                x, baselines=(median_baseline(x.detach()) if baseline == "median"
                              else torch.zeros_like(x)), target=0, n_steps=ig_steps,
                internal_batch_size=batch_size * 8)
        elif method == "grad":
            attr = Saliency(model).attribute(x, target=0, abs=True)
        else:
            raise ValueError(f"unknown attribution method {method!r}; use ig or grad")
        out.append(attr.detach().abs().sum(dim=1))
    return torch.cat(out).numpy()


def mask_share(maps: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per image: sum of |attribution| inside ``mask`` / total (NaN where the total is 0)."""
    maps = np.abs(np.asarray(maps, dtype=float))
    total = maps.sum(axis=(1, 2))
    inside = (maps * np.asarray(mask, bool)).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / total, np.nan)


def area_share(mask: np.ndarray) -> np.ndarray:
    """Per image: the region's share of the image area (an even map's mask share)."""
    return np.asarray(mask, bool).mean(axis=(1, 2))
