"""Semantic segmentation: a U-Net labels every pixel of Fashion-MNIST items on real textures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from torch import nn
from torch.utils.data import TensorDataset

from introdl.config import require
from introdl.engine import TrainConfig, fit
from introdl.experiment import Claim, experiment
from introdl.report.plots import curves, figure
from introdl.run import Run
from introdl.vision.segment import UNet, pixel_accuracy, segmentation_scores
from introdl.vision.textured_scenes import SceneConfig, make_scenes

COLOURS = ["#000000", "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4"]


@dataclass
class SegmentationConfig:
    train_scenes: int = 2000  # composed training images
    test_scenes: int = 500  # composed test images (held-out items and photo halves)
    size: int = 48  # image height and width (divisible by 4)
    width: int = 8  # U-Net channels in the first stage (doubling per stage)
    epochs: int = 10  # passes over the training scenes
    batch_size: int = 32  # mini-batch size
    lr: float = 3e-3  # Adam learning rate, cosine-decayed to 0

    def validate(self) -> None:
        for key in ("train_scenes", "test_scenes", "width"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        require(self, "size", self.size >= 28 and self.size % 4 == 0,
                "must be a multiple of 4, at least 28 (items are up to 28 pixels)")


def _tensors(scenes) -> TensorDataset:
    x = torch.from_numpy(scenes.images)[:, None]  # (N, H, W) -> (N, 1, H, W)
    return TensorDataset(x, torch.from_numpy(scenes.masks))


@experiment(
    name="segmentation", lecture=3,
    title="A U-Net (transposed-conv decoder) labels every pixel of items pasted on textures",
    claims=[
        Claim("an encoder-decoder with learned upsampling segments the scene "
              "(test mean IoU >= 0.75)", metric="test_miou", expected=0.75, compare=">=",
              full_only=True),
        Claim("it beats labelling every pixel background (mIoU gain over that baseline, "
              "measured in the same run)", metric="miou_over_baseline", expected=0.05,
              compare=">="),
        Claim("image, true mask and predicted mask side by side (figure)"),
    ],
    quick={"train_scenes": 300, "test_scenes": 64, "epochs": 8},
)
def segmentation(cfg: SegmentationConfig, run: Run) -> dict[str, float]:
    scene_cfg = SceneConfig(size=cfg.size)
    train = make_scenes(cfg.train_scenes, "train", scene_cfg, seed=run.seed)
    test = make_scenes(cfg.test_scenes, "test", scene_cfg, seed=run.seed + 1)
    k = len(train.class_names)
    model = UNet(in_channels=1, classes=k, width=cfg.width)
    test_set = _tensors(test)
    hist = fit(model, nn.CrossEntropyLoss(), _tensors(train),
               TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                           schedule="cosine", seed=run.seed),
               val_set=test_set, device=run.device, metrics={"pixel_acc": pixel_accuracy},
               log=run.log, progress=run.progress, desc="unet")

    x, y = test_set.tensors
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(xb.to(run.device)).argmax(1).cpu() for xb in x.split(256)])
    scores = segmentation_scores(pred, y, k)
    baseline = segmentation_scores(torch.zeros_like(y), y, k)  # every pixel "background"
    run.print(f"test mIoU {scores['miou']:.3f} (all-background baseline "
              f"{baseline['miou']:.3f}); pixel accuracy {scores['pixel_acc']:.3f}")

    run.save_figure(curves({"train": hist.train_loss, "test": hist.val_loss}, logy=True,
                           title="per-pixel cross-entropy"), "loss.png")
    run.save_figure(_overlay(x[:6, 0], y[:6], pred[:6], train.class_names), "overlay.png")
    metrics = {f"test_{name}": v for name, v in scores.items()}
    metrics.update({"baseline_miou": baseline["miou"], "baseline_pixel_acc": baseline["pixel_acc"],
                    "miou_over_baseline": scores["miou"] - baseline["miou"],
                    "train_loss": hist.train_loss[-1], "test_loss": hist.val_loss[-1]})
    return metrics


def _overlay(images: torch.Tensor, masks: torch.Tensor, preds: torch.Tensor, names: list[str]):
    cmap = ListedColormap(COLOURS[:len(names)])
    fig, axes = figure(len(images), 3, size=(1.9, 1.9))
    for i in range(len(images)):
        img = images[i].numpy()
        axes[0, i].imshow(img, cmap="gray", vmin=0, vmax=1)
        for row, m in ((1, masks[i]), (2, preds[i])):
            axes[row, i].imshow(img, cmap="gray", vmin=0, vmax=1)
            shown = np.ma.masked_equal(m.numpy(), 0)  # background stays see-through
            axes[row, i].imshow(shown, cmap=cmap, vmin=0, vmax=len(names) - 1, alpha=0.6,
                                interpolation="nearest")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for row, label in enumerate(["image", "true mask", "predicted"]):
        axes[row, 0].set_ylabel(label)
    handles = [Patch(color=COLOURS[c], label=n)
               for c, n in enumerate(names) if c]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
