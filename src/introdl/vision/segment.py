"""A small U-Net for semantic segmentation (Lecture 3, "Semantic segmentation: FCNs").

Segmentation labels every pixel: the network maps an image ``x`` of size ``H x W``
to class scores ``z`` of size ``K x H x W`` and is trained with the per-pixel
cross-entropy

    L = -(1 / HW) * sum_{i, j} log softmax(z[:, i, j])[y_ij].

The encoder is the classification CNN's feature extractor (conv -> ReLU -> max-pool,
halving the resolution); the decoder grows the resolution back with *transposed
convolutions* — learned upsampling, each input pixel spreading a ``2 x 2`` filter
over the output with stride 2 — and, as in U-Net (Ronneberger et al., 2015), joins
each upsampled map with the encoder map of the same size (skip connections) so
the fine detail lost to pooling returns. A ``1 x 1`` convolution gives the scores.

Scores (from torchmetrics): pixel accuracy, the share of pixels labelled right, and
mean intersection over union over the K classes,

    mIoU = (1 / K) * sum_k |pred == k  and  true == k| / |pred == k  or  true == k|.
"""

from __future__ import annotations

import torch
from torch import nn
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_jaccard_index


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    """(conv 3x3 -> BatchNorm -> ReLU) x 2, keeping the height and width."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
    )


class UNet(nn.Module):
    """Encoder (2 poolings) -> bottleneck -> decoder (2 transposed convolutions) with skips.

    Args:
        in_channels: image channels (1 for grayscale).
        classes: number of classes, background included.
        width: channels of the first stage; each deeper stage doubles them.

    Inputs:
        x: a batch of images whose height and width divide by 4.

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, classes, H, W)`` per-pixel logits.
    """

    def __init__(self, in_channels: int = 1, classes: int = 4, width: int = 16) -> None:
        super().__init__()
        w1, w2, w3 = width, 2 * width, 4 * width
        self.enc1 = _double_conv(in_channels, w1)
        self.enc2 = _double_conv(w1, w2)
        self.bottleneck = _double_conv(w2, w3)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(w3, w2, kernel_size=2, stride=2)  # H/4 -> H/2
        self.dec2 = _double_conv(2 * w2, w2)
        self.up1 = nn.ConvTranspose2d(w2, w1, kernel_size=2, stride=2)  # H/2 -> H
        self.dec1 = _double_conv(2 * w1, w1)
        self.head = nn.Conv2d(w1, classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"height and width must divide by 4, got {tuple(x.shape[-2:])}")
        e1 = self.enc1(x)  # (N, w1, H, W)
        e2 = self.enc2(self.pool(e1))  # (N, w2, H/2, W/2)
        b = self.bottleneck(self.pool(e2))  # (N, w3, H/4, W/4)
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))  # (N, 2*w2 -> w2, H/2, W/2)
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))  # (N, 2*w1 -> w1, H, W)
        return self.head(d1)  # (N, classes, H, W)


def pixel_accuracy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Share of pixels whose arg-max class is right; ``output`` (N, K, H, W), ``target`` (N, H, W).

    Shaped for the engine's ``metrics=`` (averaged over batches).
    """
    return multiclass_accuracy(output.argmax(1), target, num_classes=output.shape[1],
                               average="micro")


def segmentation_scores(pred: torch.Tensor, target: torch.Tensor, num_classes: int
                        ) -> dict[str, float]:
    """Pixel accuracy, mean IoU and each class's IoU over a whole set of label maps.

    Args:
        pred: predicted class per pixel, ``(N, H, W)`` int.
        target: true class per pixel, ``(N, H, W)`` int.
        num_classes: K, background included.
    """
    ious = multiclass_jaccard_index(pred, target, num_classes=num_classes, average="none")
    scores = {"pixel_acc": float(multiclass_accuracy(pred, target, num_classes=num_classes,
                                                     average="micro")),
              "miou": float(ious.mean())}
    scores.update({f"iou_{k}": float(v) for k, v in enumerate(ious)})
    return scores
