"""Detector (a): exhaustive sliding boxes at several scales + a CNN + NMS (Lecture 3).

The lecture's first, naive detector: slide a box of every size over every position,
ask the classifier "which digit, or background?" for each, keep the confident boxes and
remove duplicates with non-maximum suppression. With heights ``h`` in ``heights``,
widths ``r * h`` for ``r`` in ``ratios`` and a stride ``s``, an ``H x W`` image costs
``sum_{h,r} ((H - h)/s + 1) ((W - r h)/s + 1)`` CNN evaluations — thousands per image,
which is why it is slow.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.ops import batched_nms

from introdl.vision.detect.classifier import CropCNN, classify_boxes


@dataclass
class SlidingConfig:
    heights: tuple[int, ...] = (16, 20, 24, 28, 32)  # window heights in pixels
    ratios: tuple[float, ...] = (0.5, 0.75)  # window width / height
    stride: int = 4  # step between window positions in pixels
    min_score: float = 0.05  # keep windows whose best digit probability is at least this
    nms_iou: float = 0.3  # suppress same-class boxes overlapping more than this
    max_det: int = 20  # detections kept per image


def sliding_windows(size: int, cfg: SlidingConfig) -> torch.Tensor:
    """Every window of every scale on a ``size x size`` image: (K, 4) xyxy."""
    out = []
    for h in cfg.heights:
        for r in cfg.ratios:
            w = round(r * h)
            ys = torch.arange(0, size - h + 1, cfg.stride, dtype=torch.float32)
            xs = torch.arange(0, size - w + 1, cfg.stride, dtype=torch.float32)
            y, x = torch.meshgrid(ys, xs, indexing="ij")
            out.append(torch.stack([x, y, x + w, y + h], dim=-1).reshape(-1, 4))  # (ny*nx, 4)
    return torch.cat(out)


def postprocess(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor,
                min_score: float, nms_iou: float, max_det: int) -> dict[str, torch.Tensor]:
    """Score threshold, per-class NMS, top ``max_det``: the shared tail of detectors (a), (b)."""
    keep = scores >= min_score
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    keep = batched_nms(boxes, scores, labels, nms_iou)[:max_det]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


class SlidingWindowDetector:
    """Args: model: the crop classifier; crop: its input size; cfg: windows and NMS.

    Call with one image (1, H, W) -> {"boxes" (k, 4), "scores" (k,), "labels" (k,)}.
    """

    def __init__(self, model: CropCNN, crop: int, cfg: SlidingConfig | None = None) -> None:
        self.model, self.crop, self.cfg = model.eval(), crop, cfg or SlidingConfig()
        self._windows: dict[int, torch.Tensor] = {}

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        size = image.shape[-1]
        if size not in self._windows:
            self._windows[size] = sliding_windows(size, self.cfg)
        boxes = self._windows[size]
        scores, labels = classify_boxes(self.model, image, boxes, self.crop)
        c = self.cfg
        return postprocess(boxes, scores, labels, c.min_score, c.nms_iou, c.max_det)
