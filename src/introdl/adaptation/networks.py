"""The network every adaptation method shares: an encoder ``f`` and a classifier head ``g``.

    z = f(x)            features, (N, feature_dim)     -- what alignment acts on
    p(y | x) = softmax(g(z))                           -- what the label loss trains

The default encoder is the lecture CNN of Lecture 3 in its 32x32 RGB variant
(Conv 32 -> pool -> Conv 64 -> pool -> Dense 128 -> ReLU), so ``dataset-bias``
measures the lecture's own model. ``norm="batch"`` / ``"instance"`` add normalisation
after each convolution (the AdaBN and instance-norm tricks); ``backbone="resnet18"``
swaps in torchvision's ResNet-18 adapted to 32x32 (the "stronger backbone" trick).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from introdl.nn.lecture_cnn import LectureCNN

BACKBONES = ("lecture", "resnet18")


class Normalize(nn.Module):
    """Pixels 0..1 -> about -1..1, ``(x - 0.5) / 0.5``, the same for every domain."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - 0.5) / 0.5


class DigitNet(nn.Module):
    """Encoder and head over 32x32 RGB digits.

    Args:
        classes: outputs of the head.
        backbone: "lecture" (the Lecture 3 CNN) or "resnet18".
        norm: "none" | "batch" | "instance", for the lecture backbone.
        hidden: feature width of the lecture backbone (its dense layer).

    Shape:
        - Input: ``(N, 3, 32, 32)`` in 0..1
        - ``features``: ``(N, feature_dim)``; ``forward``: ``(N, classes)`` logits.
    """

    def __init__(self, classes: int = 10, backbone: str = "lecture", norm: str = "none",
                 hidden: int = 128) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, not {backbone!r}")
        if backbone == "resnet18":
            from introdl.adaptation.resnet import resnet18_encoder

            body, self.feature_dim = resnet18_encoder()
        else:
            cnn = LectureCNN(in_channels=3, image_size=32, classes=classes, hidden=hidden,
                             norm=norm)
            body = nn.Sequential(cnn.features, *list(cnn.classifier)[:-1])  # up to Dense+ReLU
            self.feature_dim = hidden
        self.encoder = nn.Sequential(Normalize(), body)
        self.head = nn.Linear(self.feature_dim, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


class CosineClassifier(nn.Module):
    """``g(z)_c = cos(z, w_c) / T``: unit-norm class prototypes ``w_c`` against unit-norm features.

    The head of MME, PAC and DANCE (T = 0.05 in all three papers).

    Args:
        in_features: feature width.
        classes: number of prototypes.
        temperature: ``T``; small ``T`` sharpens the softmax.

    Shape:
        - Input: ``(N, in_features)``; Output: ``(N, classes)`` logits in ``[-1/T, 1/T]``.
    """

    def __init__(self, in_features: int, classes: int = 10, temperature: float = 0.05) -> None:
        super().__init__()
        self.temperature = temperature
        self.weight = nn.Parameter(torch.randn(classes, in_features) * 0.1)  # prototypes

    def prototypes(self) -> torch.Tensor:
        """The unit-norm class prototypes ``(classes, in_features)``."""
        return F.normalize(self.weight, dim=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.normalize(z, dim=1) @ self.prototypes().T / self.temperature


def cosine_net(classes: int = 10, temperature: float = 0.05, **digitnet) -> DigitNet:
    """A :class:`DigitNet` whose linear head is swapped for a :class:`CosineClassifier`."""
    model = DigitNet(classes=classes, **digitnet)
    model.head = CosineClassifier(model.feature_dim, classes, temperature)
    return model


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """``H(softmax(logits))`` per row, ``-sum_c p_c log p_c`` in nats. Shape ``(N, C) -> (N,)``."""
    logp = F.log_softmax(logits, dim=1)
    return -(logp.exp() * logp).sum(1)


def clone(model: nn.Module) -> nn.Module:
    """An independent copy (ADDA's target encoder starts as the source encoder)."""
    return copy.deepcopy(model)
