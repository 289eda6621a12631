"""Detector (b): R-CNN — region proposals, a CNN on each warped crop, NMS (Lecture 3).

Girshick et al. 2014: propose ~class-agnostic regions (here :mod:`.proposals`), warp
each to the CNN's fixed input size, classify it (digits + background), keep confident
boxes and apply per-class non-maximum suppression. The CNN runs once per proposal,
so the cost grows with the number of proposals; the box is the proposal itself
(the paper's extra box-regression step is left out, as in detector (a)).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from introdl.vision.detect.classifier import CropCNN, classify_boxes
from introdl.vision.detect.proposals import ProposalConfig, propose
from introdl.vision.detect.sliding import postprocess


@dataclass
class RCNNConfig:
    min_score: float = 0.05  # keep proposals whose best digit probability is at least this
    nms_iou: float = 0.3  # suppress same-class boxes overlapping more than this
    max_det: int = 20  # detections kept per image


class RCNNDetector:
    """Args: model: the crop classifier; crop: its input size; proposals, cfg: settings.

    Call with one image (1, H, W) -> {"boxes" (k, 4), "scores" (k,), "labels" (k,)}.
    """

    def __init__(self, model: CropCNN, crop: int, proposals: ProposalConfig | None = None,
                 cfg: RCNNConfig | None = None) -> None:
        self.model, self.crop = model.eval(), crop
        self.proposals, self.cfg = proposals or ProposalConfig(), cfg or RCNNConfig()

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        boxes = propose(image[0].cpu().numpy(), self.proposals).to(image.device)
        scores, labels = classify_boxes(self.model, image, boxes, self.crop)
        c = self.cfg
        return postprocess(boxes, scores, labels, c.min_score, c.nms_iou, c.max_det)
