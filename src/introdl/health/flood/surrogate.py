"""A small U-Net surrogate of the flood simulator: DEM + inflow -> flooded-area map.

Inputs (3 channels, H x W): the DEM relative to the inflow cell's elevation (metres / 2),
the inflow cell marked with the scaled log inflow rate, and a constant plane of that scaled
log rate. Output: one logit per cell for "flooded" (simulated depth > 5 cm). Two poolings
(so H, W divisible by 4), channel widths ``width``, ``2 width``, ``4 width``; trained with
binary cross-entropy and vertical flips (a mirrored valley with a mirrored inflow row floods
the mirrored map, so the flip is an exact symmetry of the simulator).

The baseline it must beat, :func:`hand_rule`, is the hydrologists' quick map: flood every
cell whose height above the channel (the lowest cell of its column, a 'height above
nearest drainage' proxy) is below ``a + b * log(rate)``, with ``a, b`` grid-searched on the
training terrains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from introdl.engine.progress import ProgressBar
from introdl.engine.steps import EarlyStopping

LOG_RATE_MEAN, LOG_RATE_SCALE = -2.3, 1.0  # log(rate) centring for the inputs


def inputs(dem: np.ndarray, inflow_row: np.ndarray, rate: np.ndarray) -> torch.Tensor:
    """(n, 3, H, W) float32 network inputs from DEMs, inflow rows and rates."""
    n, hgt, wid = dem.shape
    idx = np.arange(n)
    rel = (dem - dem[idx, inflow_row, 0][:, None, None]) / 2.0
    lr = (np.log(rate) - LOG_RATE_MEAN) / LOG_RATE_SCALE
    mark = np.zeros_like(dem)
    mark[idx, inflow_row, 0] = lr + 2.0  # non-zero for every rate in range
    plane = np.broadcast_to(lr[:, None, None], dem.shape)
    return torch.from_numpy(np.stack([rel, mark, plane], axis=1).astype(np.float32))


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class UNet(nn.Module):
    """Encoder-decoder with skip connections (Ronneberger et al. 2015), two levels deep."""

    def __init__(self, cin: int = 3, width: int = 16) -> None:
        super().__init__()
        w = width
        self.e1, self.e2, self.mid = _block(cin, w), _block(w, 2 * w), _block(2 * w, 4 * w)
        self.pool = nn.MaxPool2d(2)
        self.u2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.d2 = _block(4 * w, 2 * w)
        self.u1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.d1 = _block(2 * w, w)
        self.out = nn.Conv2d(w, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.e1(x)
        b = self.e2(self.pool(a))
        c = self.mid(self.pool(b))
        d = self.d2(torch.cat([self.u2(c), b], 1))
        e = self.d1(torch.cat([self.u1(d), a], 1))
        return self.out(e).squeeze(1)


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean maps (pooled over the whole batch)."""
    inter = np.logical_and(pred, truth).sum()
    union = np.logical_or(pred, truth).sum()
    return float(inter / union) if union else 1.0


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Flood probabilities (n, H, W)."""
    model.eval()
    with torch.no_grad():
        return torch.cat([torch.sigmoid(model(x[i:i + batch_size]))
                          for i in range(0, len(x), batch_size)]).numpy()


@dataclass
class Trained:
    model: UNet
    threshold: float  # probability cut chosen on validation IoU
    val_iou: float
    epochs: int


def train_surrogate(x_tr, y_tr, x_va, y_va, *, width: int, epochs: int, patience: int,
                    lr: float, batch_size: int, seed: int, progress: bool = False) -> Trained:
    """Adam + BCE with vertical flips; keep the epoch with the best validation IoU."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = UNet(x_tr.shape[1], width)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    yt = torch.from_numpy(y_tr.astype(np.float32))
    stop, n, done = EarlyStopping(patience), len(x_tr), 0
    with ProgressBar(epochs, desc="U-Net", enabled=progress) as bar:
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(n, generator=gen)
            for i in range(0, n, batch_size):
                b = order[i:i + batch_size]
                xb, yb = x_tr[b], yt[b]
                flip = torch.rand(len(b), generator=gen) < 0.5
                xb = torch.where(flip[:, None, None, None], xb.flip(2), xb)
                yb = torch.where(flip[:, None, None], yb.flip(1), yb)
                loss = nn.functional.binary_cross_entropy_with_logits(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            score = iou(predict(model, x_va) > 0.5, y_va)
            done = epoch + 1
            bar.update(done, loss=loss.item(), samples=done * n, val=score)
            if stop.step(score, model):
                break
    stop.restore(model)
    prob = predict(model, x_va)
    cuts = np.linspace(0.2, 0.8, 13)
    scores = [iou(prob > c, y_va) for c in cuts]
    k = int(np.argmax(scores))
    return Trained(model=model, threshold=float(cuts[k]), val_iou=float(scores[k]), epochs=done)


def height_above_channel(dem: np.ndarray) -> np.ndarray:
    """Each cell's height above the lowest cell of its column (the channel), metres."""
    return dem - dem.min(axis=1, keepdims=True)


def hand_rule(dem, rate, a: float, b: float) -> np.ndarray:
    """Flood where height above channel < a + b log(rate)."""
    return height_above_channel(dem) < (a + b * np.log(rate))[:, None, None]


def fit_hand_rule(dem, rate, flooded) -> tuple[float, float, float]:
    """Grid search of (a, b) maximising training IoU; returns (a, b, train IoU)."""
    best = (0.0, 0.0, -1.0)
    for a in np.linspace(0, 6, 31):
        for b in np.linspace(0, 2, 21):
            s = iou(hand_rule(dem, rate, a, b), flooded)
            if s > best[2]:
                best = (float(a), float(b), s)
    return best
