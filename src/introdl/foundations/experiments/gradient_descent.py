"""Lecture 1: learning rates and adaptive optimisers on a non-convex surface over two weights.

Every run starts at the same point beside a narrow local well (see
:mod:`introdl.foundations.landscape`) and takes the same number of steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from introdl.experiment import Claim, experiment
from introdl.foundations.landscape import LossSurface, descend
from introdl.report.plots import figure
from introdl.run import Run

LIM = (-3.5, 3.5, -2.0, 4.0)  # plot window [w1 range, w2 range]


@dataclass
class GradientDescentConfig:
    steps: int = 200  # updates per run
    start_w1: float = -2.6  # starting weights, beside the local well
    start_w2: float = 3.0
    lr_small: float = 0.1  # plain SGD, too small
    lr_good: float = 1.0  # plain SGD, stable
    lr_large: float = 15.0  # plain SGD, above 2 / (2q) = 12.5: diverges
    momentum_lr: float = 0.1  # SGD + momentum 0.9, at the "small" learning rate
    adam_lr: float = 0.3  # Adam
    adagrad_lr: float = 1.0  # Adagrad
    rmsprop_lr: float = 0.05  # RMSprop
    adadelta_lr: float = 10.0  # Adadelta (its steps are tiny at first; lr=1 barely moves)


@experiment(
    name="gradient-descent", lecture=1,
    title="Learning rate too small / right / too large, and adaptive optimisers, on a 2-D loss",
    claims=[
        Claim("small learning rate: gets stuck in a false local minimum",
              metric="sgd_small_dist", expected=1.0, compare=">="),
        Claim("stable learning rate: converges smoothly and avoids the local minimum",
              metric="sgd_good_dist", expected=0.05, compare="<="),
        Claim("large learning rate: overshoots, becomes unstable and diverges",
              metric="sgd_large_diverged", compare="true"),
        Claim("Adam (adaptive learning rate) reaches the global minimum",
              metric="adam_dist", expected=0.05, compare="<="),
        Claim("paths of SGD, momentum, Adam, Adagrad, RMSprop, Adadelta over the contours"),
    ],
    quick={"steps": 100},
)
def gradient_descent(cfg: GradientDescentConfig, run: Run) -> dict[str, float]:
    surface = LossSurface()
    w_star, l_star = surface.minimum(surface.global_center)
    start = (cfg.start_w1, cfg.start_w2)
    runs = {  # label -> (optimizer name, lr)
        f"SGD lr={cfg.lr_small:g} (small)": ("sgd", cfg.lr_small),
        f"SGD lr={cfg.lr_good:g} (stable)": ("sgd", cfg.lr_good),
        f"SGD lr={cfg.lr_large:g} (large)": ("sgd", cfg.lr_large),
        f"momentum lr={cfg.momentum_lr:g}": ("momentum", cfg.momentum_lr),
        f"Adam lr={cfg.adam_lr:g}": ("adam", cfg.adam_lr),
        f"Adagrad lr={cfg.adagrad_lr:g}": ("adagrad", cfg.adagrad_lr),
        f"RMSprop lr={cfg.rmsprop_lr:g}": ("rmsprop", cfg.rmsprop_lr),
        f"Adadelta lr={cfg.adadelta_lr:g}": ("adadelta", cfg.adadelta_lr),
    }
    keys = ["sgd_small", "sgd_good", "sgd_large", "momentum", "adam", "adagrad", "rmsprop",
            "adadelta"]
    paths: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    metrics: dict[str, float] = {"global_min_loss": l_star}
    for key, (label, (opt, lr)) in zip(keys, runs.items(), strict=True):
        path, losses = descend(surface, opt, lr, cfg.steps, start)
        paths[label] = (path, losses)
        metrics["start_loss"] = float(losses[0])  # the same start for every run
        metrics[f"{key}_final_loss"] = float(losses[-1])
        metrics[f"{key}_dist"] = float(np.linalg.norm(path[-1] - w_star))
        run.print(f"{label:22s} final loss {losses[-1]:+.4g}, "
                  f"distance to w* {metrics[f'{key}_dist']:.3g}")
        for i in range(0, len(losses), max(1, len(losses) // 20)):
            run.log(step=i, run=key, loss=float(losses[i]))
    metrics["sgd_large_diverged"] = float(metrics["sgd_large_final_loss"] > metrics["start_loss"])
    run.save_figure(_plot(surface, paths, start, w_star, l_star), "descent_paths.png", dpi=85)
    return metrics


def _plot(surface: LossSurface, paths, start, w_star, l_star):
    W1, W2, L = surface.grid(LIM)
    fig, axes = figure(ncols=3, size=(4.6, 4.2))
    labels = list(paths)
    color = {label: f"C{i}" for i, label in enumerate(labels)}  # same colour in every panel
    for ax, group, title in ((axes[0], labels[:3], "plain gradient descent"),
                             (axes[1], labels[3:], "adaptive optimisers (torch.optim)")):
        ax.contourf(W1, W2, L, levels=20, cmap="viridis", alpha=0.85)
        ax.contour(W1, W2, L, levels=15, colors="w", linewidths=0.4, alpha=0.6)
        for label in group:
            P = paths[label][0]
            ax.plot(P[:, 0], P[:, 1], ".-", ms=3, lw=1, color=color[label], label=label)
        ax.plot(*start, "wo", mec="k", ms=8)
        ax.plot(*w_star, "r*", ms=14, mec="k", label="global minimum")
        ax.plot(*surface.local_center, "wx", ms=8, mew=2, label="local well")
        ax.set_xlim(LIM[0], LIM[1])
        ax.set_ylim(LIM[2], LIM[3])
        ax.set_xlabel("$w_1$")
        ax.set_ylabel("$w_2$")
        ax.set_title(title)
        ax.legend(fontsize=7, loc="lower left")
    ax = axes[2]
    for i, label in enumerate(labels):
        ax.plot(paths[label][1] - l_star, color=color[label], ls="-" if i < 3 else "--",
                lw=1.2, label=label)
    ax.set_yscale("log")
    ax.set_ylim(1e-8, 1e3)
    ax.set_xlabel("step")
    ax.set_ylabel("$L(w) - L(w^*)$")
    ax.set_title("loss above the global minimum")
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
