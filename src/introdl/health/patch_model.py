"""A two-stream patch classifier for whole-slide images, its training patches and its heat map.

The model sees, for one location of the slide, a ``patch`` x ``patch`` high-magnification
crop and a ``patch`` x ``patch`` low-magnification crop of the ``patch * factor`` square around
it (the slide block-averaged ``factor`` times: what a pathologist sees when zooming out). Each
stream is a small CNN; their pooled features are concatenated and a linear layer gives the
tumour logit. ``context=False`` keeps only the high-magnification stream (the baseline).

Training patches are balanced: half are centred on tumour (a lesion drawn uniformly, then a
pixel in it), half on non-tumour pixels, a stated share of those from annotated benign
lookalike regions (hard negatives), the rest uniform.
Inference slides the model over the slide with a ``stride`` and returns the tumour-probability
heat map (one value per stride cell), in batches.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from introdl.engine.progress import ProgressBar


def _stream(width: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )


class TwoStreamNet(nn.Module):
    """High-magnification patch + low-magnification context -> tumour logit."""

    def __init__(self, width: int = 16, context: bool = True) -> None:
        super().__init__()
        self.context = context
        self.high = _stream(width)
        self.low = _stream(width) if context else None
        self.head = nn.Linear(2 * width * (2 if context else 1), 1)

    def features(self, high: torch.Tensor, low: torch.Tensor | None = None) -> torch.Tensor:
        """The concatenated pooled features (the patch embedding)."""
        f = self.high(high)
        if self.low is not None:
            if low is None:
                raise ValueError("this model has a context stream: pass the low-mag crop too")
            f = torch.cat([f, self.low(low)], dim=1)
        return f

    def forward(self, high: torch.Tensor, low: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(high, low)).squeeze(1)


class SlideTensor:
    """A slide prepared for patch extraction: colour-standardised per slide, padded, with its
    low-magnification copy."""

    def __init__(self, image: np.ndarray, patch: int = 32, factor: int = 4) -> None:
        x = torch.from_numpy(image).float().permute(2, 0, 1) / 255.0
        # per-slide colour standardisation (a simple stain normalisation): each channel to
        # zero mean, unit spread over the slide, so lab-to-lab stain shifts cancel out
        x = (x - x.mean((1, 2), keepdim=True)) / (x.std((1, 2), keepdim=True) + 1e-6)
        h, w = x.shape[1:]
        self.size = (h, w)
        self.patch, self.factor = patch, factor
        self.half = patch // 2
        self.high = nn.functional.pad(x[None], (self.half,) * 4, mode="reflect")[0]
        hl, wl = h // factor, w // factor
        low = x[:, :hl * factor, :wl * factor].reshape(3, hl, factor, wl, factor).mean((2, 4))
        self.low = nn.functional.pad(low[None], (self.half,) * 4, mode="reflect")[0]
        self._off = torch.arange(patch) - self.half

    def crops(self, cy: np.ndarray, cx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """High- and low-magnification crops centred on slide pixels (cy, cx): (B, 3, p, p)."""
        cy = torch.as_tensor(cy, dtype=torch.long)
        cx = torch.as_tensor(cx, dtype=torch.long)
        rows = (cy[:, None] + self.half + self._off)[:, None, :, None]
        cols = (cx[:, None] + self.half + self._off)[:, None, None, :]
        ch = torch.arange(3)[None, :, None, None]
        high = self.high[ch, rows, cols]
        ly = torch.clamp(cy // self.factor, 0, self.low.shape[1] - 2 * self.half - 1)
        lx = torch.clamp(cx // self.factor, 0, self.low.shape[2] - 2 * self.half - 1)
        rows = (ly[:, None] + self.half + self._off)[:, None, :, None]
        cols = (lx[:, None] + self.half + self._off)[:, None, None, :]
        return high, self.low[ch, rows, cols]


def sample_patches(labels: np.ndarray, n: int, rng: np.random.Generator,
                   benign: np.ndarray | None = None,
                   hard_share: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` balanced patch centres, half tumour and half not: (cy, cx, label).

    Tumour centres pick a lesion uniformly, then a pixel in it (small lesions are not
    drowned by large ones). Non-tumour centres are uniform over non-tumour pixels, except a
    ``hard_share`` of them drawn from the ``benign`` mask (annotated benign lookalikes).
    """
    n_pos = n // 2
    ys, xs = np.nonzero(labels)
    out_y, out_x, out_l = [], [], []
    if len(ys):
        lab = labels[ys, xs]
        ids = np.unique(lab)
        pick = ids[rng.integers(0, len(ids), size=n_pos)]
        order = np.argsort(lab, kind="stable")
        starts = np.searchsorted(lab[order], ids)
        counts = np.searchsorted(lab[order], ids, side="right") - starts
        k = np.searchsorted(ids, pick)
        j = order[starts[k] + (rng.random(n_pos) * counts[k]).astype(int)]
        out_y.append(ys[j]), out_x.append(xs[j]), out_l.append(np.ones(n_pos, np.float32))
    n_neg = n - (n_pos if len(ys) else 0)
    n_hard = int(round(hard_share * n_neg)) if benign is not None and benign.any() else 0
    for region, k in ((labels == 0, n_neg - n_hard), (benign, n_hard)):
        if k == 0:
            continue
        ry, rx = np.nonzero(region & (labels == 0))
        j = rng.integers(0, len(ry), size=k)
        out_y.append(ry[j]), out_x.append(rx[j]), out_l.append(np.zeros(k, np.float32))
    return np.concatenate(out_y), np.concatenate(out_x), np.concatenate(out_l)


def train_patch_model(model: TwoStreamNet, slides: list[SlideTensor], labels: list[np.ndarray],
                      steps: int, batch_size: int, lr: float, seed: int,
                      benign: list[np.ndarray] | None = None, hard_share: float = 0.0,
                      progress: bool = False) -> list[float]:
    """Adam on balanced patches from the training slides (random flips); returns the losses.

    ``labels`` are the slides' lesion label images (0 = not tumour); ``benign`` and
    ``hard_share`` as in :func:`sample_patches`.
    """
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    n = max(steps * batch_size // len(slides), 2)
    pools = [sample_patches(lab, n, rng, None if benign is None else benign[i], hard_share)
             for i, lab in enumerate(labels)]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    model.train()
    with ProgressBar(steps, "patch model", enabled=progress) as bar:
        for step in range(steps):
            s = int(rng.integers(len(slides)))
            cy, cx, y = pools[s]
            idx = rng.integers(0, len(y), size=batch_size)
            high, low = slides[s].crops(cy[idx], cx[idx])
            if rng.random() < 0.5:
                high, low = high.flip(3), low.flip(3)
            if rng.random() < 0.5:
                high, low = high.flip(2), low.flip(2)
            logit = model(high, low if model.context else None)
            loss = loss_fn(logit, torch.from_numpy(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if bar.due():
                bar.update(step + 1, loss=float(np.mean(losses[-20:])),
                           samples=(step + 1) * batch_size)
    model.eval()
    return losses


def grid(size: tuple[int, int], stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Slide-pixel centres of the heat-map cells along y and x."""
    return (np.arange(size[0] // stride) * stride + stride // 2,
            np.arange(size[1] // stride) * stride + stride // 2)


@torch.no_grad()
def heat_map(model: TwoStreamNet, slide: SlideTensor, stride: int = 16,
             batch_size: int = 1024) -> np.ndarray:
    """Tumour probability at every ``stride`` cell of the slide: (H // stride, W // stride)."""
    model.eval()
    ys, xs = grid(slide.size, stride)
    cy, cx = (a.ravel() for a in np.meshgrid(ys, xs, indexing="ij"))
    out = np.empty(len(cy), np.float32)
    for i in range(0, len(cy), batch_size):
        high, low = slide.crops(cy[i:i + batch_size], cx[i:i + batch_size])
        out[i:i + batch_size] = torch.sigmoid(model(high, low if model.context else None)).numpy()
    return out.reshape(len(ys), len(xs))


@torch.no_grad()
def embed(model: TwoStreamNet, slide: SlideTensor, cy: np.ndarray, cx: np.ndarray,
          batch_size: int = 1024) -> np.ndarray:
    """Patch embeddings (the concatenated stream features) at the given centres."""
    model.eval()
    out = []
    for i in range(0, len(cy), batch_size):
        high, low = slide.crops(cy[i:i + batch_size], cx[i:i + batch_size])
        out.append(model.features(high, low if model.context else None).numpy())
    return np.concatenate(out)
