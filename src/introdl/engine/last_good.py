"""Keep the last good weights of an adversarial training run, and stop cleanly when it blows up.

GAN training can diverge: one NaN/inf loss and every later step is garbage. A
:class:`LastGood` guard saves the network (atomically, ``weights_only``-loadable) every
``every`` steps and at the last step, but only while all its weights are finite; when a
step's losses are not all finite it reloads the last saved weights into the network and
raises :class:`~introdl.errors.TrainingDiverged` with one line saying which loss, at
which step, which step's weights were kept, where, and what to try::

    guard = LastGood(net, path, every=50, steps=cfg.steps, desc="cycada translator",
                     hint="lower --set gan_lr=... and run again")
    for step in range(cfg.steps):
        parts = {...}                      # this step's losses, before any update
        guard.check(step, parts)           # raises on NaN/inf
        ...                                # the updates
        guard.after_step(step)             # saves on schedule while the weights are finite
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
        checkpoint.save(self.path, {"step": 0, key: net.state_dict()})

    def check(self, step: int, losses: dict[str, torch.Tensor]) -> None:
        """Raise :class:`TrainingDiverged` (last good weights reloaded) if a loss is NaN/inf."""
        bad = [name for name, value in losses.items() if not torch.isfinite(value).all()]
        if bad:
            self.net.load_state_dict(checkpoint.load(self.path)[self.key])
            raise TrainingDiverged(
                f"{self.desc}: the GAN diverged ({', '.join(bad)} loss became NaN/inf at step "
                f"{step}); kept the last good {self.key} (step {self.good}) in {self.path}; "
                f"{self.hint}")

    def after_step(self, step: int) -> None:
        """Save after step ``step`` (0-based) when it is due and every weight is finite."""
        done = step + 1
        if done % self.every and done != self.steps:
            return
        if all(bool(torch.isfinite(p).all()) for p in self.net.parameters()):
            checkpoint.save(self.path, {"step": done, self.key: self.net.state_dict()})
            self.good = done
