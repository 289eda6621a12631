"""Optimisers by name (Lecture 1's list) and learning-rate schedules."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from introdl.errors import UsageError

OPTIMIZERS = ("sgd", "momentum", "adam", "adagrad", "rmsprop", "adadelta")
SCHEDULES = ("none", "cosine", "step", "exponential", "onecycle")
PER_STEP_SCHEDULES = ("onecycle",)  # stepped after every optimiser step, not every epoch


def make_optimizer(
    params: Iterable[torch.nn.Parameter],
    name: str = "adam",
    lr: float = 1e-3,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
) -> torch.optim.Optimizer:
    """``sgd`` is plain SGD; ``momentum`` is SGD with momentum; the rest are torch's own."""
    name = name.lower()
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "sgd-momentum", "sgd+momentum"):
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, weight_decay=weight_decay)
    raise UsageError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")


def make_scheduler(
    opt: torch.optim.Optimizer, name: str | None, epochs: int, steps_per_epoch: int = 1
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A learning-rate schedule by name.

    Per epoch: cosine to zero, step (x0.1 at 1/2 and 3/4), or exponential 0.9. Per step:
    ``onecycle`` (Smith & Topin's one-cycle policy, torch's ``OneCycleLR``): warm up from
    lr/25 to the optimiser's lr over the first 30% of the ``epochs * steps_per_epoch``
    steps, then anneal (cosine) to lr/10^4; with Adam, beta1 cycles 0.95 -> 0.85 -> 0.95.
    """
    if name in (None, "", "none"):
        return None
    if name == "onecycle":
        max_lr = [g["lr"] for g in opt.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=max_lr, total_steps=max(1, epochs * steps_per_epoch),
            cycle_momentum=any(k in opt.defaults for k in ("momentum", "betas")))
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    if name == "step":
        ms = sorted({max(1, epochs // 2), max(1, 3 * epochs // 4)})
        return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=ms, gamma=0.1)
    if name == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    raise UsageError(f"unknown schedule {name!r}; use one of {', '.join(SCHEDULES)}")
