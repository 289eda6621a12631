"""Matplotlib set-up shared by experiments: a headless backend and a few common plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # headless: runs in CI and over ssh
import matplotlib.pyplot as plt  # noqa: E402


def figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (4.5, 3.5), **kw):
    """``plt.subplots`` with a per-panel size, so grids keep readable panels."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), **kw)
    return fig, axes


def curves(
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str = "",
    logy: bool = False,
    x: Sequence[float] | None = None,
):
    """One line per named series (e.g. train/validation loss); returns the figure."""
    fig, ax = figure()
    for name, ys in series.items():
        xs = list(x) if x is not None else list(range(1, len(ys) + 1))
        ax.plot(xs[: len(ys)], list(ys), label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
