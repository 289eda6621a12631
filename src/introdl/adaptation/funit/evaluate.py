"""Few-shot translation into unseen styles, and what it keeps and takes, by K.

:func:`few_shot_tasks` draws the test tasks: every content image (held-out images of the
training styles) is paired with every unseen style and, for each K, K example images of that
style drawn from its example part. Each task's output is then judged by two classifiers
trained on real (generated, never translated) images of every style:

- content preservation: the frozen digit classifier's accuracy, label = the content's digit;
- style fidelity: the style classifier's accuracy, label = the target style; and the
  feature-space distance ``mean_s |mean phi(outputs to s) - mean phi(real test images of s)|``
  with ``phi`` the style classifier's features (a Frechet-like distance on means only).

Baselines go through the same tasks: ``content`` (return the content image), ``example``
(return the first example image) and ``colour AdaIN`` (give the content image the examples'
per-channel pixel mean and std, :func:`introdl.nn.adain.adain`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from introdl.adaptation.train import embed
from introdl.engine.steps import predict
from introdl.nn.adain import adain


@dataclass(frozen=True)
class Tasks:
    """``x`` ``(N, 3, H, W)`` content images, ``examples`` ``(N, K, 3, H, W)``, and labels."""

    x: torch.Tensor
    examples: torch.Tensor
    digit: torch.Tensor
    style: torch.Tensor


def few_shot_tasks(content: torch.Tensor, digit: torch.Tensor, pools: dict[int, torch.Tensor],
                   k: int, seed: int) -> Tasks:
    """Every content image x every style in ``pools`` (style -> its example images), K each."""
    g = torch.Generator().manual_seed(seed)
    xs, ex, ds, ss = [], [], [], []
    for s, pool in pools.items():
        pick = torch.stack([torch.randperm(len(pool), generator=g)[:k]
                            for _ in range(len(content))])
        xs.append(content)
        ex.append(pool[pick])
        ds.append(digit)
        ss.append(torch.full((len(content),), s))
    return Tasks(torch.cat(xs), torch.cat(ex), torch.cat(ds), torch.cat(ss))


def colour_adain(x: torch.Tensor, examples: torch.Tensor) -> torch.Tensor:
    """Baseline: ``x`` with the pixel mean/std per channel of its K examples pooled."""
    pooled = examples.permute(0, 2, 1, 3, 4).flatten(2)[..., None]  # (N, 3, K*H*W, 1)
    return adain(x, pooled).clamp(0, 1)


def class_means(features: torch.Tensor, style: torch.Tensor) -> dict[int, torch.Tensor]:
    return {int(s): features[style == s].mean(0) for s in style.unique()}


@dataclass
class Judges:
    """The frozen classifiers and the real test images' per-style feature means."""

    digit: nn.Module
    style: nn.Module
    real_means: dict[int, torch.Tensor]

    def score(self, out: torch.Tensor, tasks: Tasks) -> dict[str, float]:
        """content accuracy, style accuracy and feature distance of ``out`` on ``tasks``."""
        content = (predict(self.digit, out).argmax(1) == tasks.digit).float().mean().item()
        style = (predict(self.style, out).argmax(1) == tasks.style).float().mean().item()
        means = class_means(embed(self.style, out), tasks.style)
        dist = torch.stack([(m - self.real_means[s]).norm() for s, m in means.items()]).mean()
        return {"content_acc": content, "style_acc": style, "feature_dist": dist.item()}
