"""Detector (c): Faster R-CNN — a learned region-proposal network shares the CNN (Lecture 3).

Ren et al. 2015, through :class:`torchvision.models.detection.FasterRCNN`. The image goes
through the backbone *once*; the region-proposal network (RPN) scores anchors on the
feature map and regresses them into proposals; RoIAlign pools each proposal's features
and a small head classifies it and refines its box. Training minimises the sum of four
losses torchvision returns::

    L = L_cls^RPN (objectness, BCE) + L_box^RPN (smooth-L1)
      + L_cls^head (cross-entropy over 10 digits + background) + L_box^head (smooth-L1)

No pretrained weights can be downloaded, so the backbone is a small CNN defined here and
trained from scratch; anchors are sized for the digits (16..32 px, taller than wide).
torchvision's labels are 1..10 (0 is background); :func:`detect` shifts them back to 0..9.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign


@dataclass
class FasterConfig:
    width: int = 16  # channels of the first backbone block (doubled once)
    anchor_sizes: tuple[int, ...] = (16, 24, 32)  # anchor sqrt(area) in pixels
    aspect_ratios: tuple[float, ...] = (1.0, 1.5, 2.0)  # anchor height / width
    head_dim: int = 256  # width of the box head's two fully-connected layers
    rpn_post_nms_test: int = 50  # proposals kept per image at test time
    min_score: float = 0.05  # report detections at least this confident
    max_det: int = 20  # detections kept per image


class SmallBackbone(nn.Sequential):
    """Four conv layers, total stride 4. Shape: (B, 1, H, W) -> (B, 2w, H/4, W/4)."""

    def __init__(self, width: int) -> None:
        w = width
        super().__init__(
            nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(),
        )
        self.out_channels = 2 * w  # FasterRCNN reads this


def build_faster_rcnn(image_size: int, cfg: FasterConfig | None = None) -> FasterRCNN:
    """Faster R-CNN for ``image_size`` square grayscale images and 10 digit classes."""
    cfg = cfg or FasterConfig()
    backbone = SmallBackbone(cfg.width)
    anchors = AnchorGenerator(sizes=(cfg.anchor_sizes,), aspect_ratios=(cfg.aspect_ratios,))
    roi_pool = MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=1)
    c = backbone.out_channels
    return FasterRCNN(
        backbone,
        rpn_anchor_generator=anchors,
        box_roi_pool=roi_pool,
        box_head=TwoMLPHead(c * 7 * 7, cfg.head_dim),
        box_predictor=FastRCNNPredictor(cfg.head_dim, 11),  # 10 digits + background
        min_size=image_size, max_size=image_size,  # no resizing (default is 800 px)
        image_mean=[0.1], image_std=[0.2],
        rpn_pre_nms_top_n_train=600, rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=cfg.rpn_post_nms_test,
        box_score_thresh=cfg.min_score, box_detections_per_img=cfg.max_det,
        box_batch_size_per_image=64,
    )


def train_faster_rcnn(
    model: FasterRCNN, images: torch.Tensor, boxes: list[torch.Tensor],
    labels: list[torch.Tensor], *, steps: int, batch_size: int, lr: float,
    generator: torch.Generator, device: torch.device, log=None,
) -> list[float]:
    """Adam on the summed detection losses over random mini-batches; returns loss per step.

    Args: images (N, 1, H, W); boxes/labels per image, labels 0..9 (shifted to 1..10 here).
    """
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = []
    for step in range(steps):
        idx = torch.randint(len(images), (batch_size,), generator=generator).tolist()
        x = [images[i].to(device) for i in idx]
        t = [{"boxes": boxes[i].to(device), "labels": labels[i].to(device) + 1} for i in idx]
        loss_dict = model(x, t)  # forward: the four losses
        loss = sum(loss_dict.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()  # backward
        opt.step()  # update
        sched.step()
        losses.append(float(loss.detach()))
        if log and (step + 1) % 50 == 0:
            log(step=step + 1, faster_loss=sum(losses[-50:]) / 50)
    return losses


class FasterRCNNDetector:
    """Call with one image (1, H, W) -> {"boxes", "scores", "labels" (0..9)}."""

    def __init__(self, model: FasterRCNN) -> None:
        self.model = model.eval()

    @torch.no_grad()
    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.model([image])[0]
        return {"boxes": out["boxes"], "scores": out["scores"], "labels": out["labels"] - 1}
