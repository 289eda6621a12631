"""Non-maximum suppression, as the lecture draws it (Lecture 3, object detection).

Greedy NMS keeps the highest-scoring box, removes every remaining box whose
intersection-over-union with it exceeds ``t``, and repeats::

    IoU(a, b) = |a ∩ b| / |a ∪ b|
    keep = []; while boxes: i = argmax score; keep.append(i); drop {j : IoU(i, j) > t}

The detectors call :func:`torchvision.ops.batched_nms` (per class); this hand-written
version is the reference the tests hold against :func:`torchvision.ops.nms`.
"""

from __future__ import annotations

import torch


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4), xyxy -> (N, M)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2) top-left of the overlap
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])  # (N, M, 2) bottom-right
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices of the kept boxes, highest score first (same contract as torchvision.ops.nms).

    Shape: boxes (N, 4) xyxy, scores (N,) -> (K,) int64.
    """
    order = scores.argsort(descending=True)
    iou = box_iou(boxes, boxes)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return torch.tensor(keep, dtype=torch.int64)
