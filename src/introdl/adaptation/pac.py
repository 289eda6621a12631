"""PAC: pretraining and consistency (Mishra et al., 2021, "Surprisingly simple
semi-supervised domain adaptation with pretraining and consistency").

Two stages, no adversary and no alignment loss:

1. **Rotation pretraining.** Every image, source or target (labels unused), is rotated by
   ``k * 90`` degrees, ``k ~ U{0, 1, 2, 3}``, and a 4-way head ``r`` on the encoder learns
   to say ``k``::

       L_rot = CE(r(f(rot_k(x))), k)        over source and target images

   The encoder learns features of the target's digits before seeing any target label.

2. **Consistency training** from the pretrained encoder (a fresh cosine head ``g``, as in
   MME)::

       L = CE(g(f(x_s)), y_s) + CE(g(f(x_l)), y_l)
           + w * mean_i 1[max_c p_ic >= tau] * CE(g(f(A(x_u_i))), argmax_c p_ic),
       p_i = softmax(g(f(a(x_u_i))))  (no gradient)

   ``a`` is a weak view (a small shift), ``A`` a strong one (crop/translate, scale,
   small rotation, colour jitter, noise); ``tau = 0.9`` as in FixMatch and PAC. Confident
   predictions on the weak view become labels for the strong one.
   Departure: PAC's code uses the soft weak-view distribution as the target; we use the
   hard pseudo-label (FixMatch's form), which the brief's tests pin down.

Augmentations are written in torch on whole batches (``grid_sample`` for the geometry)
and draw every random number from a ``torch.Generator``, so a run is repeatable.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from introdl.adaptation.mme import labelled_loss
from introdl.adaptation.train import Budget, optimizer
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite


def _uniform(n: int, lo: float, hi: float, g: torch.Generator | None) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def rotate(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Image ``i`` turned by ``k[i] * 90`` degrees counter-clockwise (``torch.rot90``)."""
    out = x.clone()
    for r in range(1, 4):
        sel = k == r
        if sel.any():
            out[sel] = torch.rot90(x[sel], r, dims=(2, 3))
    return out


def rotation_batch(x: torch.Tensor, g: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image rotated by a random quarter turn; the label is the number of quarter turns."""
    k = torch.randint(0, 4, (len(x),), generator=g)
    return rotate(x, k), k


def _affine(x: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor
            ) -> torch.Tensor:
    """Per-image rotation (radians), zoom and shift (in units of half the image) via grid_sample;
    the border is filled with each image's edge pixels so no black frame appears."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def weak_augment(x: torch.Tensor, g: torch.Generator | None = None, pixels: float = 2.0
                 ) -> torch.Tensor:
    """A shift of up to ``pixels`` in each direction (digits are not flipped)."""
    n, size = len(x), x.shape[-1]
    shift = _uniform(2 * n, -1, 1, g).view(n, 2) * (2 * pixels / size)
    return _affine(x, torch.zeros(n), torch.ones(n), shift)


def strong_augment(x: torch.Tensor, g: torch.Generator | None = None, degrees: float = 15.0,
                   pixels: float = 4.0, zoom: float = 0.15, jitter: float = 0.4,
                   noise: float = 0.08) -> torch.Tensor:
    """Crop/translate and zoom, a small rotation, colour jitter and Gaussian noise.

    Colour jitter: per-image brightness and contrast in ``1 +- jitter``, per-channel gains
    in ``1 +- jitter / 2`` (a colour cast), an optional grey-world inversion with
    probability 0.2 (digit-domain colour polarity varies). Output keeps shape, stays in 0..1.
    """
    n, size = len(x), x.shape[-1]
    angle = _uniform(n, -degrees, degrees, g) * math.pi / 180
    scale = _uniform(n, 1 - zoom, 1 + zoom, g)
    shift = _uniform(2 * n, -1, 1, g).view(n, 2) * (2 * pixels / size)
    out = _affine(x, angle, scale, shift)
    bright = _uniform(n, 1 - jitter, 1 + jitter, g).view(n, 1, 1, 1)
    contrast = _uniform(n, 1 - jitter, 1 + jitter, g).view(n, 1, 1, 1)
    gains = _uniform(3 * n, 1 - jitter / 2, 1 + jitter / 2, g).view(n, 3, 1, 1)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = ((out - mean) * contrast + mean) * bright * gains
    invert = (torch.rand(n, generator=g) < 0.2).view(n, 1, 1, 1)
    out = torch.where(invert, 1 - out, out)
    sigma = _uniform(n, 0, noise, g).view(n, 1, 1, 1)
    out = out + sigma * torch.randn(out.shape, generator=g)
    return out.clamp(0, 1)


class ConsistencyLoss(nn.Module):
    """``mean_i 1[max_c p_ic >= tau] * CE(logits_strong_i, argmax_c p_ic)``, ``p = softmax(
    logits_weak)`` with no gradient through ``p``.

    The mean is over the whole batch (FixMatch, PAC), so the term is 0 when no weak
    prediction is confident and the plain CE against the pseudo-labels when all are.

    Args:
        threshold: ``tau``, the confidence a weak prediction needs to become a label.

    Inputs: ``logits_weak``, ``logits_strong`` ``(N, classes)``. Output: a scalar;
    ``self.mask_rate`` is the share of the batch that passed.
    """

    def __init__(self, threshold: float = 0.9) -> None:
        super().__init__()
        self.threshold = threshold
        self.mask_rate = float("nan")

    def forward(self, logits_weak: torch.Tensor, logits_strong: torch.Tensor) -> torch.Tensor:
        conf, pseudo = F.softmax(logits_weak.detach(), dim=1).max(1)
        mask = (conf >= self.threshold).float()
        self.mask_rate = mask.mean().item()
        return (F.cross_entropy(logits_strong, pseudo, reduction="none") * mask).mean()


class RotationLoss(nn.Module):
    """``CE(r(f(rot_k(x))), k)`` with a random quarter turn ``k`` per image.

    Args:
        encoder: ``f``, images -> ``(N, feature_dim)``.
        feature_dim: its width; the 4-way head ``r`` is a linear layer on it.
    """

    def __init__(self, encoder: nn.Module, feature_dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(feature_dim, 4)
        self.accuracy = float("nan")

    def forward(self, x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
        x_rot, k = rotation_batch(x, g)
        logits = self.head(self.encoder(x_rot))
        self.accuracy = (logits.argmax(1) == k).float().mean().item()
        return F.cross_entropy(logits, k)


def pretrain_rotation(encoder: nn.Module, feature_dim: int, xs: torch.Tensor,
                      xt: torch.Tensor, budget: Budget, seed: int, progress: bool = False,
                      desc: str = "rotation") -> list[float]:
    """Stage 1: train ``encoder`` to predict quarter turns of source and target images
    (half a batch of each per step); returns the rotation accuracy per step."""
    g = torch.Generator().manual_seed(seed)
    rot = RotationLoss(encoder, feature_dim)
    opt = optimizer(rot.parameters(), budget)
    half = max(1, budget.batch_size // 2)
    source = batches(xs, batch_size=half, generator=g)
    target = batches(xt, batch_size=half, generator=g)
    rot.train()
    accs = []
    with ProgressBar(budget.steps, desc=desc, enabled=progress) as bar:
        for step in range(budget.steps):
            (x_s,), (x_t,) = next(source), next(target)
            loss = rot(weak_augment(torch.cat([x_s, x_t]), g), g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            check_finite(loss, step, desc)
            accs.append(rot.accuracy)
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * budget.batch_size)
    return accs


def train_pac(model: nn.Module, xs, ys, xl, yl, xu, budget: Budget, seed: int,
              threshold: float = 0.9, weight: float = 1.0, progress: bool = False,
              desc: str = "pac") -> list[float]:
    """Stage 2 on a (rotation-pretrained) :func:`~introdl.adaptation.mme.cosine_net`;
    returns the share of unlabelled images whose pseudo-label passed ``threshold``, per step."""
    g = torch.Generator().manual_seed(seed)
    source = batches(xs, ys, batch_size=budget.batch_size, generator=g)
    labelled = batches(xl, yl, batch_size=budget.batch_size, generator=g)
    unlabelled = batches(xu, batch_size=budget.batch_size, generator=g)
    consistency = ConsistencyLoss(threshold)
    opt = optimizer(model.parameters(), budget)
    model.train()
    rates = []
    with ProgressBar(budget.steps, desc=desc, enabled=progress) as bar:
        for step in range(budget.steps):
            (x_s, y_s), (x_l, y_l), (x_u,) = next(source), next(labelled), next(unlabelled)
            with torch.no_grad():
                logits_weak = model(weak_augment(x_u, g))  # the pseudo-labeller's view
            logits_strong = model(strong_augment(x_u, g))
            loss = labelled_loss(model, x_s, y_s, x_l, y_l, weak_augment, g) \
                + weight * consistency(logits_weak, logits_strong)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            check_finite(loss, step, desc)
            rates.append(consistency.mask_rate)
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * budget.batch_size)
    return rates
