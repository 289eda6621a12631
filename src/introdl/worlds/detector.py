"""A small object detector for 64 x 64 street scenes, and its mAP@0.5 (Meta-Sim's task metric).

Meta-Sim judges its synthetic data by the detector it trains: train only on labelled
synthetic scenes, score on labelled real scenes. The detector is Lecture 3's Faster R-CNN
(:mod:`introdl.vision.detect.faster`: torchvision's FasterRCNN on the small from-scratch
backbone, no pretrained weights) adapted to these scenes: RGB input (the backbone's first
conv takes 3 channels), anchors sized for cars of a few to ~30 pixels (4, 8, 16, 32 px;
aspect ratios 0.5, 1, 2), and as many classes as the labels need. Training is Adam on
torchvision's summed RPN + head losses over shuffled mini-batches for ``epochs`` passes.

:func:`detection_map` is Lecture 3's scorer (:func:`introdl.vision.detect.evaluate.mean_ap50`):
mAP at IoU 0.5 from torchmetrics' MeanAveragePrecision with the pycocotools backend.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign

from introdl.engine.progress import ProgressBar
from introdl.vision.detect.evaluate import mean_ap50, run_detector
from introdl.vision.detect.faster import FasterRCNNDetector, SmallBackbone

ANCHOR_SIZES = (4, 8, 16, 32)  # anchor sqrt(area) in pixels, for 64 x 64 scenes
ASPECT_RATIOS = (0.5, 1.0, 2.0)  # anchor height / width


def build_detector(image_size: int, num_classes: int, width: int = 16,
                   head_dim: int = 128) -> FasterRCNN:
    """Lecture 3's Faster R-CNN for RGB ``image_size`` scenes and ``num_classes`` classes."""
    backbone = SmallBackbone(width)
    backbone[0] = nn.Conv2d(3, width, 3, padding=1)  # RGB instead of grayscale
    c = backbone.out_channels
    model = FasterRCNN(
        backbone,
        rpn_anchor_generator=AnchorGenerator(sizes=(ANCHOR_SIZES,),
                                             aspect_ratios=(ASPECT_RATIOS,)),
        box_roi_pool=MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=1),
        box_head=TwoMLPHead(c * 7 * 7, head_dim),
        box_predictor=FastRCNNPredictor(head_dim, num_classes + 1),  # + background
        min_size=image_size, max_size=image_size,  # no resizing
        image_mean=[0.5, 0.5, 0.5], image_std=[0.25, 0.25, 0.25],
        rpn_pre_nms_top_n_train=300, rpn_post_nms_top_n_train=100,
        rpn_pre_nms_top_n_test=200, rpn_post_nms_top_n_test=50,
        rpn_batch_size_per_image=64, box_batch_size_per_image=32,
        box_score_thresh=0.05, box_detections_per_img=20,
    )
    model.num_classes = num_classes  # type: ignore[attr-defined]
    return model


def _clean(boxes: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop degenerate boxes (under 1 px wide or tall): torchvision refuses them."""
    boxes = boxes.float().reshape(-1, 4)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= 1) & ((boxes[:, 3] - boxes[:, 1]) >= 1)
    return boxes[keep], labels.long().reshape(-1)[keep]


def train_detector(images: torch.Tensor, boxes: list[torch.Tensor], labels: list[torch.Tensor],
                   *, epochs: int, seed: int, progress: bool = False, batch_size: int = 8,
                   lr: float = 5e-3, num_classes: int | None = None) -> nn.Module:
    """Train a detector from scratch on labelled scenes; returns it in eval mode.

    Args:
        images: (N, 3, H, W) in [0, 1]; boxes: per image (k, 4) xyxy pixels;
        labels: per image (k,) class ids >= 0 (``num_classes`` defaults to max id + 1).
        epochs: passes over the N scenes in shuffled mini-batches of ``batch_size``.
        seed: weights, shuffling and torchvision's box sampling (global RNG forked, restored).
    """
    if epochs < 1 or len(images) == 0:
        raise ValueError("train_detector needs epochs >= 1 and at least one image")
    targets = [_clean(b, lab) for b, lab in zip(boxes, labels, strict=True)]
    if num_classes is None:
        num_classes = 1 + max((int(t[1].max()) for t in targets if len(t[1])), default=0)
    steps_per_epoch = math.ceil(len(images) / batch_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_detector(images.shape[-1], num_classes)
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * steps_per_epoch,
                                                    pct_start=0.1)
        gen = torch.Generator().manual_seed(seed)
        step = 0
        with ProgressBar(epochs * steps_per_epoch, "detector", enabled=progress) as bar:
            for _ in range(epochs):
                order = torch.randperm(len(images), generator=gen).tolist()
                for s in range(steps_per_epoch):
                    idx = order[s * batch_size:(s + 1) * batch_size]
                    x = [images[i].float() for i in idx]
                    t = [{"boxes": targets[i][0], "labels": targets[i][1] + 1} for i in idx]
                    loss = sum(model(x, t).values())
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
                    step += 1
                    if bar.due():
                        bar.update(step, loss=float(loss.detach()), samples=step * batch_size)
    return model.eval()


@torch.no_grad()
def detect(model: nn.Module, images: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Predicted boxes, scores and labels (the training ids) for each image."""
    preds, _ = run_detector(FasterRCNNDetector(model.eval()), images.float())
    return preds


def detection_map(model: nn.Module, images: torch.Tensor, boxes: list[torch.Tensor],
                  labels: list[torch.Tensor]) -> float:
    """mAP at IoU 0.5 of ``model`` on labelled scenes (torchmetrics, pycocotools backend)."""
    return mean_ap50(detect(model, images), [b.float().reshape(-1, 4) for b in boxes],
                     [lab.long().reshape(-1) for lab in labels])
