"""Seconds per image of the three Lecture 3 detectors, measured in one run on the same images.

    python benchmarks/detection_speed.py --run runs/detection --images 50 --threads 1

``--run`` points at a ``introdl run detection`` folder and loads its weights
(``crop_cnn.pt``, ``faster_rcnn.pt``, ``weights_only=True``); without it the models are
trained briefly here first (the quick preset's budget), which is enough for timing: the
sliding-window and R-CNN cost does not depend on the weights, and Faster R-CNN keeps a
fixed number of proposals. Each detector runs over all images ``--repeat`` times; the
table gives the median pass's seconds per image.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from introdl.run import Run
from introdl.runtime import seed_everything
from introdl.vision.detect.classifier import CropCNN
from introdl.vision.detect.evaluate import mean_ap50
from introdl.vision.detect.faster import FasterRCNNDetector, build_faster_rcnn, train_faster_rcnn
from introdl.vision.detect.rcnn import RCNNDetector
from introdl.vision.detect.scenes import SceneConfig, make_scenes
from introdl.vision.detect.sliding import SlidingWindowDetector
from introdl.vision.experiments.detection import DetectionConfig, _tensors, train_crop_classifier


def build_models(args, cfg: DetectionConfig, console: Console):
    crop_cnn, faster = CropCNN(cfg.width), build_faster_rcnn(cfg.size)
    if args.run:
        d = Path(args.run)
        crop_cnn.load_state_dict(torch.load(d / "crop_cnn.pt", weights_only=True))
        faster.load_state_dict(torch.load(d / "faster_rcnn.pt", weights_only=True))
        return crop_cnn, faster
    console.print("no --run: training small models first (quick-preset budget)")
    train = make_scenes(150, "train", SceneConfig(size=cfg.size), seed=0)
    run = Run("/tmp/introdl-detection-speed", progress=False, console=Console(quiet=True))
    crop_cnn = train_crop_classifier(DetectionConfig(epochs=4, per_digit=6), train, run)
    images, boxes, labels = _tensors(train)
    train_faster_rcnn(faster, images, boxes, labels, steps=150, batch_size=8, lr=1e-3,
                      generator=torch.Generator().manual_seed(0), device=torch.device("cpu"))
    return crop_cnn, faster


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", help="folder of an 'introdl run detection' run (weights)")
    p.add_argument("--images", type=int, default=50, help="test scenes to time on")
    p.add_argument("--repeat", type=int, default=3, help="passes per detector (median kept)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    console = Console()
    cfg = DetectionConfig()
    crop_cnn, faster = build_models(args, cfg, console)
    test = make_scenes(args.images, "test", SceneConfig(size=cfg.size), seed=args.seed + 1)
    images, boxes, labels = _tensors(test)
    detectors = {"(a) sliding windows": SlidingWindowDetector(crop_cnn, cfg.crop),
                 "(b) R-CNN": RCNNDetector(crop_cnn, cfg.crop),
                 "(c) Faster R-CNN": FasterRCNNDetector(faster)}
    table = Table(title=f"{args.images} images {cfg.size}x{cfg.size}, {args.threads} thread(s)")
    for col in ("detector", "s/image (median)", "min", "max", "mAP@0.5", "vs Faster R-CNN"):
        table.add_column(col)
    rows = {}
    with torch.no_grad():
        for name, det in detectors.items():
            det(images[0])  # warm-up
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                preds = [det(img) for img in images]
                times.append((time.perf_counter() - t0) / len(images))
            rows[name] = (statistics.median(times), min(times), max(times),
                          mean_ap50(preds, boxes, labels))
    fast = rows["(c) Faster R-CNN"][0]
    for name, (med, lo, hi, m) in rows.items():
        table.add_row(name, f"{med:.4f}", f"{lo:.4f}", f"{hi:.4f}", f"{m:.3f}",
                      f"{med / fast:.2f}x")
    console.print(table)
    console.print(f"torch {torch.__version__}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
