"""Scoring detectors: mAP@0.5 (torchmetrics, pycocotools backend) and seconds per image.

Mean average precision at IoU 0.5: for each class, rank all detections by score, mark
each a true positive if it matches an unmatched ground-truth box with IoU >= 0.5, and
take the area under the precision-recall curve (COCO's 101-point interpolation);
average over classes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torchmetrics.detection import MeanAveragePrecision

Detector = Callable[[torch.Tensor], dict[str, torch.Tensor]]


@torch.no_grad()
def run_detector(detector: Detector, images: torch.Tensor) -> tuple[list[dict], float]:
    """Predictions for each image (one at a time) and the mean seconds per image."""
    preds = []
    t0 = time.perf_counter()
    for img in images:
        preds.append(detector(img))
    return preds, (time.perf_counter() - t0) / max(len(images), 1)


def mean_ap50(preds: list[dict[str, torch.Tensor]], boxes: list[torch.Tensor],
              labels: list[torch.Tensor]) -> float:
    """mAP at IoU 0.5 of ``preds`` against the ground truth."""
    metric = MeanAveragePrecision(iou_type="bbox", iou_thresholds=[0.5], backend="pycocotools")
    target = [{"boxes": b, "labels": lab} for b, lab in zip(boxes, labels, strict=True)]
    metric.update([{k: v.cpu() for k, v in p.items()} for p in preds], target)
    return float(metric.compute()["map"])
