"""A small CNN for the simulated skin-lesion images, its training loop and its outputs.

Shared by the ``fairness-skin`` and ``explain`` experiments. The net is three 3x3
conv blocks and global average pooling (a lesion may sit anywhere; pooling keeps the
net small), one logit out (malignant). Training minimises (optionally per-image
weighted) binary cross-entropy with Adam for a fixed number of steps on random flips
and quarter turns (a dermatoscope has no "up"); nothing is stopped early, so no
held-out data is touched during training.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from introdl.engine.progress import ProgressBar
from introdl.engine.steps import check_finite


class SkinNet(nn.Module):
    """conv(8)-pool-conv(16)-pool-conv(32)-global-average-pool -> 32-d embedding -> logit."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(),
        )
        self.head = nn.Linear(4 * w, 1)
        self.embed_dim = 4 * w

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer: the pooled 64-d feature vector."""
        return self.features(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))  # (n, 1) logit of "malignant"


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    if torch.rand(1, generator=g).item() < 0.5:
        x = x.flip(3)
    return torch.rot90(x, int(torch.randint(0, 4, (1,), generator=g)), dims=(2, 3))


def train(images: np.ndarray, labels: np.ndarray, *, steps: int, seed: int,
          batch_size: int = 64, lr: float = 2e-3, sample_weight: np.ndarray | None = None,
          progress: bool = False, desc: str = "train") -> SkinNet:
    """Train a fresh :class:`SkinNet` for ``steps`` Adam steps.

    Args:
        sample_weight: per-image sampling weight (oversampling): batches are drawn with
            replacement in proportion to it; ``None`` draws uniformly.
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = SkinNet()
    x = torch.as_tensor(images, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.float32)
    w = torch.ones(len(y)) if sample_weight is None else torch.as_tensor(sample_weight,
                                                                        dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()
    with ProgressBar(steps, desc=desc, enabled=progress) as bar:
        for step in range(steps):
            idx = torch.multinomial(w, batch_size, replacement=True, generator=g)
            loss = loss_fn(model(_augment(x[idx], g)).squeeze(1), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            check_finite(loss, step, desc)
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * batch_size)
    return model.eval()


@torch.no_grad()
def scores(model: nn.Module, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """P(malignant) per image."""
    model.eval()
    x = torch.as_tensor(images, dtype=torch.float32)
    out = [torch.sigmoid(model(x[i:i + batch_size])).squeeze(1) for i in range(0, len(x),
                                                                                  batch_size)]
    return torch.cat(out).numpy()


@torch.no_grad()
def embeddings(model: SkinNet, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The penultimate (pooled) features per image."""
    model.eval()
    x = torch.as_tensor(images, dtype=torch.float32)
    return torch.cat([model.embed(x[i:i + batch_size]) for i in range(0, len(x),
                                                                       batch_size)]).numpy()
