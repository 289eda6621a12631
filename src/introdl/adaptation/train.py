"""Source-only training, evaluation and the batch streams every method's loop draws from.

Every method in this package trains for a fixed number of optimiser steps with the
same :class:`Budget`; nothing is stopped early or picked by target accuracy, so the
target test set is touched once, by :func:`accuracy`, at the end. A method's loop
reads like the lecture's::

    xs, ys = next(source)            # labelled source batch
    xt = next(target)                # unlabelled target batch
    loss = ce(model(xs), ys) + lam * alignment(xs, xt)
    opt.zero_grad(); loss.backward(); opt.step()
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite, predict


@dataclass
class Budget:
    steps: int = 2000  # optimiser steps (each sees one source and one target batch)
    batch_size: int = 64  # images per domain per step
    lr: float = 1e-3  # Adam's learning rate
    weight_decay: float = 5e-4  # L2 penalty on the weights


def optimizer(params, budget: Budget) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=budget.lr, weight_decay=budget.weight_decay)


def train_source_only(model: nn.Module, x: torch.Tensor, y: torch.Tensor, budget: Budget,
                      seed: int, progress: bool = False, desc: str = "source-only",
                      device: torch.device | str = "cpu") -> list[float]:
    """Minimise the source cross-entropy for ``budget.steps`` steps; returns the loss per step."""
    g = torch.Generator().manual_seed(seed)
    model.to(device).train()
    opt = optimizer(model.parameters(), budget)
    ce = nn.CrossEntropyLoss()
    losses = []
    stream = batches(x, y, batch_size=budget.batch_size, generator=g)
    with ProgressBar(budget.steps, desc=desc, enabled=progress) as bar:
        for step in range(budget.steps):
            xs, ys = (t.to(device) for t in next(stream))
            loss = ce(model(xs), ys)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            check_finite(loss, step, desc)
            losses.append(loss.item())
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * budget.batch_size)
    return losses


@torch.no_grad()
def embed(model: nn.Module, x: torch.Tensor, batch_size: int = 512,
          device: torch.device | str = "cpu") -> torch.Tensor:
    """Encoder features ``(N, feature_dim)`` in eval mode."""
    was = model.training
    model.eval()
    out = torch.cat([model.features(b.to(device)).float().cpu() for b in x.split(batch_size)])
    model.train(was)
    return out


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             device: torch.device | str = "cpu") -> float:
    return (predict(model, x, device=device).argmax(1) == y).float().mean().item()
