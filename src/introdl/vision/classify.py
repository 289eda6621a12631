"""The lecture's CNN for image classification (Lecture 3, "CNNs for classification").

The model itself, :class:`LectureCNN`, lives in :mod:`introdl.nn.lecture_cnn` (Lecture 10
reuses it); this module adds what Lecture 3 does with it: parameter counts and saliency.
"""

from __future__ import annotations

import torch
from torch import nn

from introdl.nn.lecture_cnn import LectureCNN

__all__ = ["LectureCNN", "parameter_count", "saliency"]


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def saliency(model: nn.Module, x: torch.Tensor, target: torch.Tensor | None = None
             ) -> torch.Tensor:
    """Gradient saliency ``|d z_k / d x|``: how much each pixel moves class ``k``'s score.

    ``k`` is ``target`` or, when ``None``, the predicted class. For several input
    channels the map is the maximum over channels (Simonyan et al., 2014).

    Shape:
        - x: ``(N, C, H, W)``; target: ``(N,)``
        - Output: ``(N, H, W)``
    """
    was_training = model.training
    model.eval()
    x = x.detach().clone().requires_grad_(True)
    scores = model(x)  # (N, classes)
    k = scores.argmax(1) if target is None else target
    # each image's score depends on that image alone, so one backward gives every map
    (grad,) = torch.autograd.grad(scores.gather(1, k[:, None]).sum(), x)
    model.train(was_training)
    return grad.abs().amax(dim=1)  # (N, C, H, W) -> (N, H, W)
