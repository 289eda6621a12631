"""Genotype callers for candidate alleles: a small CNN on pileup images, and a threshold rule.

Both map a candidate to a class: 0 hom-ref (not a variant: e.g. sequencing errors), 1 het,
2 hom-alt.

- :class:`PileupCNN` (DeepVariant's idea at toy scale): convolutions along each read row of
  the 6-channel image, an average over the read rows of each strand (what fraction of the
  forward and of the reverse reads look like what, column by column), and a 1-D
  convolution and linear layers over the columns. Trained with
  cross-entropy and Adam (learning rate decaying linearly to 0) for a fixed number of
  epochs (no early stopping).
- :class:`ThresholdCaller`: the classic allele-fraction rule. With ``AF = supporting reads /
  reads covering the site``: hom-alt if AF >= ``hom``, het if ``het`` <= AF < ``hom`` and at
  least ``min_support`` reads carry the allele, otherwise hom-ref. :func:`fit_thresholds`
  picks the three numbers on a grid by F1 on training candidates (never test ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from introdl.health.genomics.evaluate import Score, score
from introdl.health.genomics.pileup import SCALE, Candidates
from introdl.health.genomics.variant import Variant

STRANDS = (1.0, 0.5)  # strand channel values of forward and reverse reads


class PileupCNN(nn.Module):
    """Convolutions along each read row, a mean over the reads, then along the columns.

    Read rows have no order that means anything (DeepVariant sorts them by position), so
    after a (1 x 3) and a (1 x 1) convolution that build per-read features ("this read carries the
    allele at a high-quality base"), the rows are averaged over the forward reads and,
    separately, over the reverse reads present in each column (the reference rows and empty
    rows are left out), giving per-column fractions per strand, so a site whose evidence sits
    on one strand only looks different from one whose evidence is on both (DeepVariant's
    Inception network learns this from the strand channel; a row average would blur it);
    the sums (read counts, / 32) and log depth of each strand are appended; a 1-D
    convolution over the columns and a linear layer give the three genotype logits. Cheap
    enough for CPU training.
    """

    def __init__(self, width: int = 25, channels: int = 16, ref_rows: int = 4):
        super().__init__()
        c = channels
        self.ref_rows = ref_rows
        self.rows = nn.Sequential(
            nn.Conv2d(6, c, (1, 3), padding=(0, 1)), nn.ReLU(),
            nn.Conv2d(c, c, 1), nn.ReLU(),
        )
        self.columns = nn.Sequential(
            nn.Conv1d(4 * c + 2, 2 * c, 3, padding=1), nn.ReLU(), nn.Flatten(),
            nn.Linear(2 * c * width, 64), nn.ReLU(), nn.Linear(64, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, self.ref_rows:]  # read rows; the 'differs' channel carries the reference
        h = self.rows(x)
        pooled = []
        for strand in STRANDS:  # forward reads, then reverse reads
            mask = (x[:, 3:4] - strand).abs().lt(0.1).float()  # reads of this strand
            depth = mask.sum(dim=2)  # (batch, 1, width)
            total = (h * mask).sum(dim=2)
            pooled += [total / depth.clamp(min=1), total / 32, torch.log1p(depth) / 4]
        return self.columns(torch.cat(pooled, dim=1))


def as_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).float() / SCALE


def train_cnn(images: np.ndarray, labels: np.ndarray, seed: int, epochs: int = 12,
              batch_size: int = 64, lr: float = 2e-3, width: int = 25, progress=None) -> PileupCNN:
    """Fit a :class:`PileupCNN` on training candidates (fixed epochs; nothing held out)."""
    torch.manual_seed(seed)
    model = PileupCNN(width=width)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * -(-len(labels) // batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / steps)  # linear decay
    rng = np.random.default_rng(seed)
    x_all, y_all = as_tensor(images), torch.from_numpy(labels)
    model.train()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(labels)))
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            loss = nn.functional.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if progress is not None:
            progress(float(loss.detach()))
    model.eval()
    return model


@torch.no_grad()
def predict_cnn(model: PileupCNN, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities (n, 3)."""
    out = [torch.softmax(model(as_tensor(images[i:i + batch_size])), dim=1)
           for i in range(0, len(images), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, 3), dtype=np.float32)


def calls(cands: Candidates, classes: np.ndarray) -> list[Variant]:
    """Candidate alleles with their predicted genotype (hom-ref ones dropped)."""
    return [Variant(v.pos, v.ref, v.alt, int(g))
            for v, g in zip(cands.alleles, classes, strict=True) if g > 0]


@dataclass(frozen=True)
class ThresholdCaller:
    het: float = 0.2
    hom: float = 0.8
    min_support: int = 2

    def predict(self, cands: Candidates) -> np.ndarray:
        af = cands.allele_fraction
        het = (af >= self.het) & (cands.support >= self.min_support)
        return np.where(af >= self.hom, 2, np.where(het, 1, 0))


HET_GRID = tuple(np.round(np.arange(0.05, 0.51, 0.05), 2))
HOM_GRID = tuple(np.round(np.arange(0.5, 0.96, 0.05), 2))
SUPPORT_GRID = (2, 3, 4)


def fit_thresholds(samples: list[tuple[Candidates, list[Variant]]], start: int, end: int,
                   kind=None) -> ThresholdCaller:
    """The grid point with the best F1 (TP/FP/FN summed over ``samples``, each a pair of
    candidates and that sample's truth) in ``[start, end)``: training data only."""
    best, best_f1 = ThresholdCaller(), -1.0
    for het in HET_GRID:
        for hom in HOM_GRID:
            for s in SUPPORT_GRID:
                c = ThresholdCaller(float(het), float(hom), s)
                f1 = total(c, samples, start, end, kind).f1
                if f1 > best_f1:
                    best, best_f1 = c, f1
    return best


def total(c: ThresholdCaller, samples, start: int, end: int, kind=None) -> Score:
    parts = [score(calls(cands, c.predict(cands)), truth, kind, start, end)
             for cands, truth in samples]
    return Score(sum(p.tp for p in parts), sum(p.fp for p in parts), sum(p.fn for p in parts))
