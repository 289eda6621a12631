"""The lecture's CNN for image classification (Lecture 3, "CNNs for classification").

Shared by Lecture 3 (Fashion-MNIST) and Lecture 10 (the digit domains), so it lives here.

Feature learning, then classification::

    Conv 32@3x3 -> ReLU -> MaxPool 2 -> Conv 64@3x3 -> ReLU -> MaxPool 2
        -> Flatten -> Dense(hidden) -> ReLU -> Dense(classes) -> softmax

Each convolution computes ``h = ReLU(W * x + b)`` (``*`` the sliding-window
convolution of :mod:`introdl.vision.conv`), each pooling halves the height and
width, and the dense head turns the last feature maps into class scores
``p(y = k | x) = softmax(z)_k``. Training minimises the cross-entropy
``-log p(y | x)``; as in :mod:`introdl.nn.mlp` the softmax lives in
``nn.CrossEntropyLoss``, so the model returns logits ``z``.

Departure from the slide: the slide goes straight from Flatten to the softmax
layer; ``hidden > 0`` inserts one ReLU dense layer in between (the lecture's lab
does the same), ``hidden = 0`` gives the slide's head exactly. ``norm`` (off by
default) adds batch or instance normalisation after each convolution, for the
domain-adaptation "tricks" of Lecture 10 (per-domain batch norm, instance norm).
"""

from __future__ import annotations

import torch
from torch import nn

from introdl.nn.pooling import MaxPool2d

NORMS = ("none", "batch", "instance")


class LectureCNN(nn.Module):
    """Two conv/ReLU/max-pool stages and a dense head over ``classes`` outputs.

    Args:
        in_channels: channels of the input image (1 for grayscale).
        image_size: input height = width, used to size the dense layer (28 for MNIST).
        classes: number of classes.
        channels: filters of the two convolutions (the lecture's 32 and 64).
        hidden: width of the dense layer before the output; 0 = Flatten -> output directly.
        dropout: dropout before the output layer during training (0 = none).
        norm: "none" (the lecture's model), "batch" or "instance" normalisation after
            each convolution, before its ReLU.

    Inputs:
        x: a batch of images.

    Shape:
        - Input: ``(N, in_channels, image_size, image_size)``
        - Output: ``(N, classes)`` logits (no softmax).
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        classes: int = 10,
        channels: tuple[int, int] = (32, 64),
        hidden: int = 128,
        dropout: float = 0.0,
        norm: str = "none",
    ) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, not {norm!r}")
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=3),  # (N, c1, S-2, S-2)
            *_norm(norm, c1),
            nn.ReLU(),
            MaxPool2d(2),  # (N, c1, (S-2)//2, ...)
            nn.Conv2d(c1, c2, kernel_size=3),
            *_norm(norm, c2),
            nn.ReLU(),
            MaxPool2d(2),
        )
        side = ((image_size - 2) // 2 - 2) // 2  # 28 -> 26 -> 13 -> 11 -> 5
        head: list[nn.Module] = [nn.Flatten()]  # (N, c2, side, side) -> (N, c2 * side^2)
        width = c2 * side * side
        if hidden:
            head += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        if dropout:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(width, classes))  # logits; softmax is in the loss
        self.classifier = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations after each ReLU: ``[(N, c1, S-2, S-2), (N, c2, ., .)]``."""
        maps = []
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                maps.append(x)
        return maps


def _norm(kind: str, channels: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    if kind == "instance":  # per image and channel; affine so it can learn a scale back
        return [nn.InstanceNorm2d(channels, affine=True)]
    return []
