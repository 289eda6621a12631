"""A small 3D CNN that scores a CT volume for malignancy, and its training loop.

Three Conv3d-BatchNorm-ReLU blocks (``width``, 2x, 4x channels; max-pooling between
them) and a 1x1x1 convolution give a *map* of malignancy logits at a quarter of the
volume's resolution; the volume's score is the map's maximum, so a small nodule anywhere
in the lungs can raise it (multiple-instance pooling). The score is a logit (monotone in
the probability, so ROC and AUC are unchanged).

Training: binary cross-entropy on the volume score, Adam with a one-cycle schedule, a
fixed number of epochs, random flips along each axis as augmentation. Where lesion masks
are known (the simulator's), an auxiliary cross-entropy on the map teaches *where* the
malignant nodule is (target: the malignant lesion's mask max-pooled to the map's grid),
as Ardila et al.'s pipeline trained a cancer-region detector beside its volume model;
without masks (real NoduleMNIST3D), only the volume label is used. Nothing is picked on
the test split; the experiment picks thresholds on validation.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from introdl.engine.progress import ProgressBar
from introdl.engine.steps import check_finite

POS_WEIGHT = 20.0  # map cells holding a malignant nodule are rare (~1%): weigh them up


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout),
                         nn.ReLU(inplace=True))


class Net3D(nn.Module):
    """Volume (n, 1, d, h, w) -> malignancy logit (n,); :meth:`logit_map` gives the map."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.features = nn.Sequential(block(1, width), nn.MaxPool3d(2),
                                      block(width, 2 * width), nn.MaxPool3d(2),
                                      block(2 * width, 4 * width), block(4 * width, 4 * width))
        self.head = nn.Conv3d(4 * width, 1, 1)

    def logit_map(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logit_map(x).amax(dim=(1, 2, 3))


def _flip(g: torch.Generator, *ts: torch.Tensor) -> tuple[torch.Tensor, ...]:
    for dim in (-3, -2, -1):
        if torch.rand((), generator=g) < 0.5:
            ts = tuple(t.flip(dim) for t in ts)
    return ts


def train(model: Net3D, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int = 16,
          lr: float = 3e-3, seed: int = 0, masks: np.ndarray | None = None,
          aux_weight: float = 1.0, progress: bool = False) -> list[float]:
    """Fit ``model`` on volumes ``x`` (n, d, h, w) and labels ``y``; returns the epoch losses.

    ``masks`` (n, d, h, w) bool, where known, adds the map loss on the malignant lesions.
    """
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).unsqueeze(1)
    yt = torch.from_numpy(np.asarray(y, dtype=np.float32))
    mt = None
    if masks is not None:  # only the malignant lesion is a target; look-alikes are not
        mt = torch.from_numpy(np.asarray(masks) & (np.asarray(y) == 1)[:, None, None, None])
        mt = mt.unsqueeze(1).float()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(1, len(xt) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, pct_start=0.15,
                                                total_steps=epochs * steps_per_epoch)
    losses = []
    model.train()
    with ProgressBar(epochs * steps_per_epoch, desc="3D CNN", enabled=progress) as bar:
        for epoch in range(epochs):
            perm = torch.randperm(len(xt), generator=g)
            total = 0.0
            for i in range(steps_per_epoch):
                idx = perm[i * batch_size:(i + 1) * batch_size]
                if mt is None:
                    (xb,) = _flip(g, xt[idx])
                    loss = F.binary_cross_entropy_with_logits(model(xb), yt[idx])
                else:
                    xb, mb = _flip(g, xt[idx], mt[idx])
                    logits = model.logit_map(xb)
                    target = F.adaptive_max_pool3d(mb, logits.shape[1:])[:, 0]
                    loss = F.binary_cross_entropy_with_logits(logits.amax(dim=(1, 2, 3)),
                                                              yt[idx])
                    loss = loss + aux_weight * F.binary_cross_entropy_with_logits(
                        logits, target, pos_weight=torch.tensor(POS_WEIGHT))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                check_finite(loss, i, "3D CNN")
                total += loss.item()
                if bar.due():
                    bar.update(epoch * steps_per_epoch + i + 1, loss=loss.item(),
                               samples=(epoch * steps_per_epoch + i + 1) * batch_size)
            losses.append(total / steps_per_epoch)
    return losses


@torch.no_grad()
def scores(model: Net3D, x: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """The model's logit for each volume in ``x`` (eval mode)."""
    model.eval()
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).unsqueeze(1)
    return torch.cat([model(xt[i:i + batch_size]) for i in range(0, len(xt), batch_size)]
                     ).numpy()
