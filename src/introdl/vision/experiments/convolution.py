"""Lecture 3's convolution, by hand: the 5x5 worked example and hand-designed filters on a photo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from introdl.config import require
from introdl.experiment import Claim, experiment
from introdl.report.plots import figure
from introdl.run import Run
from introdl.vision.conv import FILTERS, apply_filter, avg_pool2d, conv2d, max_pool2d

# The slide's binary image, its 3x3 filter, and the feature map it shows.
LECTURE_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
                 [0, 1, 1, 0, 0]]
LECTURE_FILTER = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
LECTURE_FEATURE_MAP = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


@dataclass
class ConvolutionConfig:
    photo: Literal["camera", "astronaut"] = "camera"  # scikit-image photo (shown in grayscale)
    size: int = 256  # the photo is resized to size x size (the from-scratch loop is slow)

    def validate(self) -> None:
        require(self, "size", 8 <= self.size <= 4096, "must be from 8 to 4096 pixels")


@experiment(
    name="convolution", lecture=3,
    title="Convolution from its definition: the 5x5 example, pooling, and filters on a photo",
    claims=[
        Claim("the 5x5 image convolved with the 3x3 filter gives [[4,3,4],[2,4,3],[2,3,4]]",
              metric="feature_map_matches", compare="true"),
        Claim("the sliding-window convolution equals torch's conv2d (on the photo)",
              metric="photo_conv_max_abs_err", expected=1e-9, compare="<="),
        Claim("sharpen, edge detect and strong edge detect filters produce different "
              "feature maps from one image (figure)"),
    ],
    quick={"size": 96},
)
def convolution(cfg: ConvolutionConfig, run: Run) -> dict[str, float]:
    # 1. The lecture's worked example, in float64 so equality is exact.
    image = torch.tensor(LECTURE_IMAGE, dtype=torch.float64)
    kernel = torch.tensor(LECTURE_FILTER, dtype=torch.float64)
    fmap = conv2d(image[None, None], kernel[None, None])[0, 0]  # (1,1,3,3) -> (3,3)
    matches = fmap.tolist() == [[float(v) for v in row] for row in LECTURE_FEATURE_MAP]
    run.print("feature map of the lecture's 5x5 image:\n" + str(fmap.int().numpy()))
    pooled_max = max_pool2d(fmap[None, None], 2, stride=1)[0, 0]
    pooled_mean = avg_pool2d(fmap[None, None], 2, stride=1)[0, 0]
    run.save_figure(_worked_example(image, kernel, fmap, pooled_max, pooled_mean),
                    "worked_example.png")

    # 2. The slide's hand-designed filters on a real photograph.
    photo = _photo(cfg.photo, cfg.size)
    outputs = {name: apply_filter(photo, k.double()) for name, k in FILTERS.items()}
    err = max(float((outputs[name] - F.conv2d(photo[None, None], k.double()[None, None],
                                              padding=1)[0, 0]).abs().max())
              for name, k in FILTERS.items())
    run.save_figure(_filters_figure(photo, outputs), "filters.png")
    edge_mean = float(outputs["edge detect"].abs().mean())
    return {
        "feature_map_matches": float(matches),
        **{f"feature_map_{i}{j}": float(fmap[i, j]) for i in range(3) for j in range(3)},
        "max_pool_11": float(pooled_max[1, 1]),
        "photo_conv_max_abs_err": err,
        "edge_mean_abs_response": edge_mean,
    }


def _photo(name: str, size: int) -> torch.Tensor:
    """A scikit-image photograph as a float64 (size, size) tensor in 0..1."""
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    from introdl.errors import UsageError

    if name not in ("camera", "astronaut"):
        raise UsageError(f"--set photo={name}: use camera or astronaut")
    img = getattr(data, name)()
    img = rgb2gray(img) if img.ndim == 3 else img / 255.0
    return torch.from_numpy(resize(img, (size, size), anti_aliasing=True).astype(np.float64))


def _grid(ax, a: torch.Tensor, title: str) -> None:
    a = a.numpy()
    lo, hi = min(0.0, a.min()), max(1.0, a.max())
    ax.imshow(a, cmap="Blues", vmin=lo, vmax=hi)
    for (i, j), v in np.ndenumerate(a):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=11,
                color="white" if v > (lo + hi) / 2 else "black")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


def _worked_example(image, kernel, fmap, pooled_max, pooled_mean):
    fig, axes = figure(5, 1, size=(2.6, 2.8))
    _grid(axes[0], image, "image (5x5)")
    _grid(axes[1], kernel, "filter (3x3)")
    _grid(axes[2], fmap, "feature map (3x3)")
    _grid(axes[3], pooled_max, "max pool 2x2, s=1")
    _grid(axes[4], pooled_mean, "mean pool 2x2, s=1")
    fig.tight_layout()
    return fig


def _filters_figure(photo, outputs):
    fig, axes = figure(len(outputs) + 1, 1, size=(3.2, 3.4))
    axes[0].imshow(photo.numpy(), cmap="gray")
    axes[0].set_title("original")
    for ax, (name, out) in zip(axes[1:], outputs.items(), strict=True):
        o = out.numpy()
        if name == "sharpen":
            ax.imshow(np.clip(o, 0, 1), cmap="gray")
        else:  # edge maps: show the response's magnitude, clipped at its 99th percentile
            ax.imshow(np.abs(o), cmap="gray", vmax=np.percentile(np.abs(o), 99))
        ax.set_title(name)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig
