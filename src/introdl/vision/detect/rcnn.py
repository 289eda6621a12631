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
    pad_to: int = 0  # add random boxes up to this many proposals (0: none); 2000 gives
    # the per-image count of the paper's selective search, for timing R-CNN at its scale


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
        if self.cfg.pad_to > len(boxes):
            boxes = torch.cat([boxes, random_boxes(self.cfg.pad_to - len(boxes), image.shape[-2:],
                                                   self.proposals).to(image.device)])
        scores, labels = classify_boxes(self.model, image, boxes, self.crop)
        c = self.cfg
        return postprocess(boxes, scores, labels, c.min_score, c.nms_iou, c.max_det)


def random_boxes(n: int, size: tuple[int, int], cfg: ProposalConfig, seed: int = 0) -> torch.Tensor:
    """``n`` boxes (n, 4) xyxy with sides in [min_side, max_side], inside an image of ``size``.

    Stands in for the many low-quality proposals selective search adds (it returns ~2,000
    per image); used to time R-CNN at the paper's scale, where its cost lies.
    """
    H, W = size
    g = torch.Generator().manual_seed(seed)
    side = torch.randint(cfg.min_side, min(cfg.max_side, H, W) + 1, (n, 2), generator=g)
    x0 = (torch.rand(n, generator=g) * (W - side[:, 0] + 1)).floor()
    y0 = (torch.rand(n, generator=g) * (H - side[:, 1] + 1)).floor()
    return torch.stack([x0, y0, x0 + side[:, 0], y0 + side[:, 1]], dim=1).float()
