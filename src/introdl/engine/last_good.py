"""Keep the last good weights of an adversarial training run, and stop cleanly when it blows up.

GAN training can diverge: one NaN/inf loss and every later step is garbage. A
:class:`LastGood` guard saves the network (atomically, ``weights_only``-loadable) every
``every`` steps, but only weights that have proved good: finite themselves, and giving
finite losses at the next step's check (finite weights can still overflow the losses).
Until that check they wait in memory. The last step's finite weights are saved at once:
no check follows them, and they are the run's result. When a step's losses are not all
finite the guard reloads the last saved weights into the network and raises
:class:`~introdl.errors.TrainingDiverged` with one line saying which loss, at which step,
which step's weights were kept, where, and what to try::

    guard = LastGood(net, path, every=50, steps=cfg.steps, desc="cycada translator",
                     hint="lower --set gan_lr=... and run again")
    for step in range(cfg.steps):
        parts = {...}                      # this step's losses, before any update
        guard.check(step, parts)           # raises on NaN/inf; else saves held weights
        ...                                # the updates
        guard.after_step(step)             # on schedule: holds finite weights for the check
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from introdl.engine import checkpoint
from introdl.errors import TrainingDiverged


class LastGood:
    """Saves ``net`` as ``{"step": s, key: state_dict}`` at ``path``; step 0 at once."""

    def __init__(self, net: nn.Module, path: str | Path, every: int, steps: int, *,
                 desc: str, hint: str, key: str = "translator") -> None:
        self.net, self.path, self.every, self.steps = net, Path(path), every, steps
        self.desc, self.hint, self.key = desc, hint, key
        self.good = 0
        self.pending: tuple[int, dict[str, torch.Tensor]] | None = None
        checkpoint.save(self.path, {"step": 0, key: net.state_dict()})

    def check(self, step: int, losses: dict[str, torch.Tensor]) -> None:
        """Raise :class:`TrainingDiverged` (last good weights reloaded) if a loss is NaN/inf.

        Finite losses prove the weights held by :meth:`after_step` good: they are saved now.
        """
        bad = [name for name, value in losses.items() if not torch.isfinite(value).all()]
        if bad:
            self.pending = None
            self.net.load_state_dict(checkpoint.load(self.path)[self.key])
            raise TrainingDiverged(
                f"{self.desc}: the GAN diverged ({', '.join(bad)} loss became NaN/inf at step "
                f"{step}); kept the last good {self.key} (step {self.good}) in {self.path}; "
                f"{self.hint}")
        if self.pending is not None:
            self._save(*self.pending)

    def after_step(self, step: int) -> None:
        """After step ``step`` (0-based), when due: hold finite weights for the next check."""
        done = step + 1
        if done % self.every and done != self.steps:
            return
        if not all(bool(torch.isfinite(p).all()) for p in self.net.parameters()):
            return
        state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        if done == self.steps:  # no check follows the last step
            self._save(done, state)
        else:
            self.pending = (done, state)

    def _save(self, step: int, state: dict[str, torch.Tensor]) -> None:
        checkpoint.save(self.path, {"step": step, self.key: state})
        self.good, self.pending = step, None
