"""A tiny classification problem shared by the engine tests and their subprocess scripts."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from introdl.engine import TrainConfig, fit


def data(n: int = 96, d: int = 8, classes: int = 3, seed: int = 0) -> TensorDataset:
    """Gaussian inputs, labels from a fixed random linear map (learnable, not trivial)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, classes, generator=g)
    return TensorDataset(x, (x @ w).argmax(dim=1))


class ListDataset(Dataset):
    """The same examples behind a plain ``Dataset``, with random-noise augmentation.

    Exercises the DataLoader path, and draws from the global RNG as augmentation does,
    so exact resume must also restore that RNG at the right point.
    """

    def __init__(self, ds: TensorDataset) -> None:
        self.x, self.y = ds.tensors

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.x[i] + 0.01 * torch.randn(self.x.shape[1:]), self.y[i]


def model(seed: int = 0, d: int = 8, hidden: int = 16, classes: int = 3,
          dropout: float = 0.2) -> nn.Module:
    """An MLP with dropout, so exact resume also needs the RNG state restored."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, classes))


CFG = TrainConfig(epochs=3, batch_size=8, optimizer="momentum", lr=0.05, seed=1)


def train(checkpoint_dir=None, *, resume: bool = False, loss_fn: nn.Module | None = None,
          dataset: Dataset | None = None, cfg: TrainConfig = CFG, model_seed: int = 0,
          **kw) -> nn.Module:
    """Fit ``model(model_seed)`` on ``data()`` and return it."""
    m = model(model_seed)
    fit(m, loss_fn or nn.CrossEntropyLoss(), dataset or data(), cfg,
        checkpoint_dir=checkpoint_dir, resume=resume, progress=False, **kw)
    return m


def same_weights(a: nn.Module, b: nn.Module, atol: float = 0.0) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(
        torch.allclose(sa[k], sb[k], rtol=0, atol=atol) for k in sa)
