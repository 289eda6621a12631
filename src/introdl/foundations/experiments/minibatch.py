"""Lecture 1, "Mini-batches while training": full-batch GD vs SGD vs mini-batches.

Two measurements on a Fashion-MNIST subset with a one-hidden-layer MLP:

1. Noise. At one fixed weight vector, the mini-batch gradient ``g_B`` scatters
   around the full-batch gradient ``g`` with ``E||g_B - g||^2 ~ sigma^2 / B``
   (:mod:`introdl.foundations.gradient_noise`); the fitted log-log slope should be -1.
2. Speed. Each batch size trains with plain SGD, ``W <- W - lr * g_B``, on the same
   compute budget, from the same initial weights, with its best learning rate
   from a small grid; we record the seconds until the full training loss first
   reaches a target. Full-batch steps are exact but each costs the whole data set;
   single-example steps are cheap but noisy (and cannot use large learning rates);
   mini-batches sit between and, as the lecture says, train fastest.

The loop is written by hand (it is the lecture's algorithm slide) so the clock can
stop while we measure the full training loss: evaluation time is not counted.
The clock is this process's CPU time (``time.process_time``): on an idle machine it
equals the wall-clock of a one-thread run, and unlike wall-clock it is not inflated
when other jobs share the CPU, so the comparison holds on a busy laptop or CI box.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from introdl.config import require
from introdl.experiment import Claim, experiment
from introdl.foundations.gradient_noise import loglog_slope, minibatch_gradient_variance
from introdl.foundations.image_splits import image_splits
from introdl.nn.mlp import MLP
from introdl.report.plots import figure
from introdl.run import Run


@dataclass
class MinibatchConfig:
    dataset: Literal["fashion-mnist", "digits"] = "fashion-mnist"  # the image data set
    n_train: int = 6000  # training examples (the "full batch")
    hidden: int = 64  # width of the one hidden layer
    batch_sizes: tuple[int, ...] = (0, 1, 8, 32, 128)  # 0 means full batch (GD)
    lrs: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0)  # SGD learning rates tried per batch size
    target_loss: float = 0.45  # full training loss to reach
    budget_seconds: float = 8.0  # training CPU seconds allowed per (batch size, lr)
    evals_per_epoch: int = 8  # full-loss measurements per pass over the data (at least 1/step)
    variance_batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)
    variance_samples: int = 200  # mini-batch gradients sampled per batch size

    def validate(self) -> None:
        require(self, "n_train", self.n_train >= 2, "must be at least 2")
        require(self, "hidden", self.hidden >= 1, "must be at least 1")
        require(self, "batch_sizes", len(self.batch_sizes) > 0, "name at least one")
        require(self, "lrs", len(self.lrs) > 0, "name at least one")
        require(self, "evals_per_epoch", self.evals_per_epoch >= 1, "must be at least 1")
        require(self, "variance_batch_sizes", len(self.variance_batch_sizes) >= 2
                and min(self.variance_batch_sizes) >= 1,
                "name at least two batch sizes, each at least 1 (a slope needs two)")
        require(self, "variance_samples", self.variance_samples >= 2, "must be at least 2")


@dataclass
class Trace:
    """One training run: full training loss against training seconds."""

    seconds: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    reached_at: float | None = None  # seconds when loss first <= target; None if never


def timed_sgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, lr: float,
              *, target: float, budget: float, evals_per_epoch: int, seed: int) -> Trace:
    """Mini-batch SGD until the full training loss reaches ``target`` or ``budget`` runs out."""
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    n = len(x)
    every = max(1, math.ceil(n / evals_per_epoch / batch_size))  # steps between measurements
    gen = torch.Generator().manual_seed(seed)
    trace, clock, step = Trace(), 0.0, 0

    def measure() -> float:  # the clock is stopped while we measure the full loss
        with torch.no_grad():
            full = float(loss_fn(model(x), y))
        trace.seconds.append(clock)
        trace.loss.append(full)
        return full

    measure()
    while True:
        for idx in torch.randperm(n, generator=gen).split(batch_size):
            t0 = time.process_time()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])  # forward on the mini-batch
            loss.backward()  # g_B
            opt.step()  # W <- W - lr * g_B
            clock += time.process_time() - t0
            step += 1
            if step % every == 0 or clock >= budget:
                full = measure()
                if full <= target:
                    trace.reached_at = clock
                    return trace
                if clock >= budget or not math.isfinite(full):
                    return trace


def _label(b: int) -> str:
    return "full" if b == 0 else f"b{b}"


@experiment(
    name="minibatch",
    lecture=1,
    title="Full-batch GD vs SGD vs mini-batches: gradient noise ~1/B and time to a target loss",
    claims=[
        Claim("mini-batch gradient estimates get more accurate with batch size: variance ~ 1/B "
              "(log-log slope -1)", metric="variance_slope", expected=-1.0, tol=0.15),
        Claim("mini-batches train faster than full-batch gradient descent and than "
              "single-example SGD (CPU time to a target training loss; the slower methods' "
              "time is the budget when they never get there), by a 2x margin that timing "
              "noise cannot flip", metric="minibatch_speedup_at_least", expected=2.0,
              compare=">="),
    ],
    quick={"n_train": 2000, "lrs": (0.1, 0.3), "target_loss": 0.6, "budget_seconds": 0.6,
           "variance_samples": 30},
)
def minibatch(cfg: MinibatchConfig, run: Run) -> dict[str, float]:
    data = image_splits(cfg.dataset, n_train=cfg.n_train, seed=run.seed)
    x, y = (t.to(run.device) for t in data.train.tensors)
    n = len(x)
    torch.manual_seed(run.seed)
    init = MLP(data.in_features, [cfg.hidden], 10).to(run.device)
    metrics: dict[str, float] = {}

    # 1. variance of the gradient estimate at the initial weights
    gen = torch.Generator().manual_seed(run.seed)
    bs_var = [b for b in cfg.variance_batch_sizes if b <= n]
    var = [minibatch_gradient_variance(init, nn.CrossEntropyLoss(), x, y, b,
                                       cfg.variance_samples, gen) for b in bs_var]
    metrics["variance_slope"] = loglog_slope(bs_var, var)
    for b, v in zip(bs_var, var, strict=True):
        metrics[f"grad_variance_b{b}"] = v
        run.log(batch_size=b, grad_variance=v)
    run.print(f"gradient variance slope on log-log: {metrics['variance_slope']:.3f}")

    # 2. CPU time to the target training loss, best learning rate per batch size.
    # Timed on one thread: with two, process CPU time also counts OpenMP threads spinning
    # on a busy machine, and nothing reached the target within the quick budget. (The
    # runner restores the thread count after the experiment.)
    torch.set_num_threads(1)
    best: dict[int, tuple[float, Trace]] = {}
    for b in cfg.batch_sizes:
        for lr in cfg.lrs:
            model = MLP(data.in_features, [cfg.hidden], 10).to(run.device)
            model.load_state_dict(init.state_dict())  # same start for every run
            tr = timed_sgd(model, x, y, b or n, lr, target=cfg.target_loss,
                           budget=cfg.budget_seconds, evals_per_epoch=cfg.evals_per_epoch,
                           seed=run.seed)
            run.log(batch_size=b or n, lr=lr, reached_at=tr.reached_at, final_loss=tr.loss[-1])
            if b not in best or _key(tr) < _key(best[b][1]):  # earlier, else lower loss
                best[b] = (lr, tr)
        lr, tr = best[b]
        reached = f"{tr.reached_at:.2f} s" if tr.reached_at is not None else "not reached"
        run.print(f"batch {b or n:>5}: best lr {lr:g}, target {cfg.target_loss}: {reached}")
        metrics[f"best_lr_{_label(b)}"] = lr
        if tr.reached_at is not None:
            metrics[f"seconds_to_target_{_label(b)}"] = tr.reached_at

    def t(b: int) -> float:  # time to target; the budget when never reached
        reached = best[b][1].reached_at
        return cfg.budget_seconds if reached is None else reached

    minis = [b for b in cfg.batch_sizes if 1 < b < n]
    t_mini = min(t(b) for b in minis) if minis else math.inf
    mini_reached = any(best[b][1].reached_at is not None for b in minis)
    others = [t(b) for b in cfg.batch_sizes if b in (0, 1) or b >= n]
    metrics["minibatch_fastest"] = float(mini_reached and all(t_mini < o for o in others))
    metrics["minibatch_speedup_at_least"] = min(others) / t_mini if mini_reached and others \
        else 0.0
    if 0 in best and mini_reached:
        metrics["speedup_vs_full_at_least"] = t(0) / t_mini
    if 1 in best and mini_reached:
        metrics["speedup_vs_sgd1_at_least"] = t(1) / t_mini

    _plot_variance(run, bs_var, var, n)
    _plot_traces(run, best, n, cfg.target_loss)
    return metrics


def _key(tr: Trace) -> tuple[float, float]:
    return (tr.reached_at if tr.reached_at is not None else math.inf, tr.loss[-1])


def _plot_variance(run: Run, bs: list[int], var: list[float], n: int) -> None:
    fig, ax = figure()
    ax.loglog(bs, var, "o", label="measured E||g_B - g||²")
    sigma2 = var[0]  # B = 1 gives sigma^2 * (N-1)/(N-1)
    ref = [sigma2 / b * (n - b) / (n - 1) for b in bs]
    ax.loglog(bs, ref, "--", color="gray", label="σ²/B · (N-B)/(N-1)")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("gradient variance")
    ax.set_title(f"Mini-batch gradient noise (slope {loglog_slope(bs, var):.2f})")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    run.save_figure(fig, "gradient_variance.png")


def _plot_traces(run: Run, best: dict[int, tuple[float, Trace]], n: int, target: float) -> None:
    fig, ax = figure(size=(5.5, 3.8))
    for b, (lr, tr) in best.items():
        name = f"full batch ({n})" if b in (0, n) else f"batch {b}"
        ax.plot(tr.seconds, tr.loss, label=f"{name}, lr {lr:g}")
    ax.axhline(target, color="gray", ls=":", label=f"target {target:g}")
    ax.set_yscale("log")
    ax.set_xlabel("training CPU time (s)")
    ax.set_ylabel("full training loss")
    ax.set_title("SGD: time to the target loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    run.save_figure(fig, "loss_vs_wallclock.png")
