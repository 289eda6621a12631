"""The small CNN that the sliding-window detector and R-CNN run on every crop (Lecture 3).

A crop (any box on the scene) is warped to ``crop x crop`` pixels with RoIAlign and
classified into 11 classes: the digits 0..9 and *background* (class 10). Training crops
are labelled by IoU with the ground truth, as in R-CNN: a box with IoU >= 0.5 with a
digit takes that digit's class, IoU < 0.3 with every digit is background, the rest is
not used. Trained with cross-entropy ``-log softmax(f(crop))_y``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torchvision.ops import roi_align

from introdl.vision.detect.nms import box_iou
from introdl.vision.detect.scenes import Scenes

BACKGROUND = 10  # class index of "no digit here"


class CropCNN(nn.Module):
    """Three conv blocks and a linear layer over a warped crop.

    Args:
        width: channels of the first block (doubled in each next block).
        n_classes: 10 digits + background.

    Shape: (B, 1, crop, crop) -> logits (B, n_classes).
    """

    def __init__(self, width: int = 16, n_classes: int = 11) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(4 * w, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))  # (B, 4w, 1, 1) -> (B, 4w) -> (B, C)


def warp_crops(images: torch.Tensor, boxes: list[torch.Tensor], crop: int) -> torch.Tensor:
    """Every box of every image warped to (crop, crop): (N, 1, H, W) -> (sum k_i, 1, crop, crop)."""
    return roi_align(images, [b.float() for b in boxes], output_size=crop, spatial_scale=1.0,
                     sampling_ratio=2, aligned=True)


def sample_training_boxes(
    scenes: Scenes, per_digit: int, rng: np.random.Generator
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per image: jittered boxes around the digits and random boxes, labelled by IoU.

    Returns per-image boxes (k, 4) and labels (k,) (digit or BACKGROUND); boxes with
    IoU in [0.3, 0.5) are dropped. Jitter is wide, so partial digits land in background.
    """
    size = scenes.images.shape[-1]
    all_boxes, all_labels = [], []
    for gt, lab in zip(scenes.boxes, scenes.labels, strict=True):
        cand = []
        for b in gt:  # jitter: shift up to 30% of the side, scale 0.7..1.4
            w, h = b[2] - b[0], b[3] - b[1]
            cx = (b[0] + b[2]) / 2 + rng.uniform(-0.3, 0.3, per_digit) * w
            cy = (b[1] + b[3]) / 2 + rng.uniform(-0.3, 0.3, per_digit) * h
            sw = w * rng.uniform(0.7, 1.4, per_digit)
            sh = h * rng.uniform(0.7, 1.4, per_digit)
            cand.append(np.stack([cx - sw / 2, cy - sh / 2, cx + sw / 2, cy + sh / 2], 1))
        n_rand = per_digit * max(len(gt), 1)
        h = rng.uniform(8, 40, n_rand)
        w = h * rng.uniform(0.4, 1.2, n_rand)
        x0, y0 = rng.uniform(0, 1, n_rand) * (size - w), rng.uniform(0, 1, n_rand) * (size - h)
        cand.append(np.stack([x0, y0, x0 + w, y0 + h], 1))
        boxes = torch.tensor(np.concatenate(cand), dtype=torch.float32)
        labels = torch.full((len(boxes),), BACKGROUND, dtype=torch.int64)
        if len(gt):
            iou = box_iou(boxes, torch.from_numpy(gt))  # (k, n_gt)
            best, arg = iou.max(dim=1)
            labels = torch.where(best >= 0.5, torch.from_numpy(lab)[arg], labels)
            use = (best >= 0.5) | (best < 0.3)
            boxes, labels = boxes[use], labels[use]
        all_boxes.append(boxes)
        all_labels.append(labels)
    return all_boxes, all_labels


@torch.no_grad()
def classify_boxes(model: CropCNN, image: torch.Tensor, boxes: torch.Tensor, crop: int,
                   batch: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """Best digit class and its probability for each box on one image (1, H, W).

    Returns scores (k,) = max over digits of softmax, labels (k,) in 0..9.
    """
    probs = []
    for chunk in boxes.split(batch):
        crops = warp_crops(image[None], [chunk], crop)
        probs.append(model(crops).softmax(dim=1))
    p = torch.cat(probs) if probs else torch.zeros(0, 11)
    scores, labels = p[:, :BACKGROUND].max(dim=1)
    return scores, labels
