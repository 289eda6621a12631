"""Pieces of a hand-written training loop: endless seeded batches, a finite-loss check, and
batched inference.

For loops that stay visible in a lecture's code (an adversarial step, a consistency loss)
instead of going through :func:`introdl.engine.fit`::

    stream = batches(x, y, batch_size=64, generator=torch.Generator().manual_seed(0))
    for step in range(steps):
        xb, yb = next(stream)
        loss = F.cross_entropy(model(xb), yb)
        check_finite(loss, step, "classifier")
        opt.zero_grad(); loss.backward(); opt.step()
    logits = predict(model, x_test)
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from introdl.errors import TrainingDiverged


def batches(*tensors: torch.Tensor, batch_size: int, generator: torch.Generator
            ) -> Iterator[tuple[torch.Tensor, ...]]:
    """Endless mini-batches of the aligned ``tensors``: a fresh seeded shuffle per pass."""
    n = len(tensors[0])
    if n == 0:
        raise ValueError("cannot draw batches from an empty set")
    while True:
        perm = torch.randperm(n, generator=generator)
        for i in range(0, n - min(batch_size, n) + 1, min(batch_size, n)):
            idx = perm[i:i + batch_size]
            yield tuple(t[idx] for t in tensors)


def check_finite(loss: torch.Tensor, step: int, what: str) -> None:
    """Stop with :class:`TrainingDiverged` (one line, what to do) when the loss is NaN/inf."""
    if not torch.isfinite(loss):
        raise TrainingDiverged(f"{what}: the loss became {loss.item()} at step {step}; "
                               "lower --set lr=... and run again")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512,
            device: torch.device | str = "cpu") -> torch.Tensor:
    """Outputs of ``model`` on ``x`` in eval mode, batched (its train/eval state is restored)."""
    was = model.training
    model.eval()
    out = torch.cat([model(b.to(device)).float().cpu() for b in x.split(batch_size)])
    model.train(was)
    return out


class EarlyStopping:
    """Keep the weights of the best validation score; say when ``patience`` epochs brought none.

    ::

        stop = EarlyStopping(patience=8)
        for epoch in range(epochs):
            ...train one epoch...
            if stop.step(val_score(model), model):
                break
        stop.restore(model)       # the best epoch's weights

    Higher scores are better (NSE, IoU, accuracy); pass ``-loss`` for a loss.
    """

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best = -float("inf")
        self.best_state: dict[str, torch.Tensor] | None = None
        self.since = 0

    def step(self, score: float, model: nn.Module) -> bool:
        """Record one epoch's validation ``score``; True when training should stop."""
        if score > self.best:
            self.best, self.since = score, 0
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.since += 1
        return self.since >= self.patience

    def restore(self, model: nn.Module) -> None:
        """Load the best epoch's weights into ``model`` (no-op before the first step)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
