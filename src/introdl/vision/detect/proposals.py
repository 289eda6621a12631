"""Class-agnostic region proposals for R-CNN: thresholded blobs at several levels (Lecture 3).

R-CNN used selective search (hierarchical grouping of segments), which has no
maintained offline Python package. This stands in for it with the same idea — group
pixels bottom-up into candidate objects, at several granularities, without knowing the
classes: smooth the image (Gaussian, ``sigma``), threshold it at each level ``t``, close
gaps by dilating ``r`` pixels for each ``r`` in ``dilations``, and propose the bounding
box of each connected component (8-connectivity) whose size is plausible. Near-duplicate
boxes (IoU > ``dedup_iou``) are merged by NMS on box area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from skimage.measure import label, regionprops
from skimage.morphology import dilation, disk
from torchvision.ops import nms


@dataclass
class ProposalConfig:
    thresholds: tuple[float, ...] = (0.2, 0.35, 0.5)  # intensity levels to threshold at
    dilations: tuple[int, ...] = (0, 1, 2)  # dilation radii that join broken strokes
    sigma: float = 0.7  # Gaussian smoothing before thresholding (suppresses pixel noise)
    min_side: int = 6  # smallest box side in pixels
    max_side: int = 48  # largest box side in pixels
    pad: int = 1  # grow each box by this many pixels
    dedup_iou: float = 0.9  # proposals overlapping more than this are one proposal


def propose(image: np.ndarray, cfg: ProposalConfig | None = None) -> torch.Tensor:
    """Candidate object boxes on one image (H, W) in 0..1: (K, 4) float xyxy."""
    cfg = cfg or ProposalConfig()
    smooth = ndimage.gaussian_filter(image, cfg.sigma)
    H, W = image.shape
    boxes = []
    for t in cfg.thresholds:
        mask = smooth > t
        for r in cfg.dilations:
            m = dilation(mask, disk(r)) if r else mask
            for region in regionprops(label(m, connectivity=2)):
                y0, x0, y1, x1 = region.bbox  # rows/cols, end exclusive
                if r:  # undo the dilation's growth
                    y0, x0, y1, x1 = y0 + r, x0 + r, y1 - r, x1 - r
                h, w = y1 - y0, x1 - x0
                if min(h, w) >= cfg.min_side and max(h, w) <= cfg.max_side:
                    boxes.append([max(x0 - cfg.pad, 0), max(y0 - cfg.pad, 0),
                                  min(x1 + cfg.pad, W), min(y1 + cfg.pad, H)])
    if not boxes:
        return torch.zeros(0, 4)
    b = torch.tensor(boxes, dtype=torch.float32)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return b[nms(b, area, cfg.dedup_iou)]
