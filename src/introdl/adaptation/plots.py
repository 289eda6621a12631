"""Figures Lecture 10's experiments share: domain samples, t-SNE of features, accuracy bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from introdl.report.plots import figure


def sample_grid(domains: Mapping[str, torch.Tensor], labels: Mapping[str, torch.Tensor],
                per_domain: int = 10):
    """One row per domain: its first image of each class 0..per_domain-1."""
    fig, axes = figure(per_domain, len(domains), size=(0.9, 1.0))
    axes = np.atleast_2d(axes)
    for r, (name, x) in enumerate(domains.items()):
        y = labels[name]
        for c in range(per_domain):
            ax = axes[r, c]
            idx = (y == c).nonzero()
            if len(idx):
                ax.imshow(x[idx[0, 0]].permute(1, 2, 0).numpy(), vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def tsne_panels(panels: Sequence[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor,
                                       torch.Tensor]], seed: int = 0, per_domain: int = 500):
    """t-SNE of features, two plots per panel: coloured by domain, then by class.

    Each panel is ``(title, source_features, source_labels, target_features,
    target_labels)``; target labels only colour the picture.
    """
    from sklearn.manifold import TSNE

    fig, axes = figure(2, len(panels), size=(3.6, 3.4))
    axes = np.atleast_2d(axes)
    rng = np.random.default_rng(seed)
    for r, (title, fs, ys, ft, yt) in enumerate(panels):
        i_s = rng.permutation(len(fs))[:per_domain]
        i_t = rng.permutation(len(ft))[:per_domain]
        X = torch.cat([fs[i_s], ft[i_t]]).numpy()
        emb = TSNE(2, init="pca", random_state=seed, perplexity=30).fit_transform(X)
        n = len(i_s)
        ax = axes[r, 0]
        ax.scatter(*emb[:n].T, s=3, c="#1f77b4", label="source")
        ax.scatter(*emb[n:].T, s=3, c="#d62728", label="target")
        ax.legend(markerscale=4, fontsize=7, loc="best")
        ax.set_title(f"{title}\nby domain", fontsize=9)
        ax = axes[r, 1]
        cls = np.concatenate([ys[i_s].numpy(), yt[i_t].numpy()])
        ax.scatter(*emb[:n].T, s=3, c=cls[:n], cmap="tab10", vmin=0, vmax=9, marker="o")
        ax.scatter(*emb[n:].T, s=6, c=cls[n:], cmap="tab10", vmin=0, vmax=9, marker="x",
                   linewidths=0.5)
        ax.set_title(f"{title}\nby class (o source, x target)", fontsize=9)
        for a in axes[r]:
            a.set_xticks([])
            a.set_yticks([])
    fig.tight_layout()
    return fig


def accuracy_bars(results: Mapping[str, Mapping[str, float]], ceiling: Mapping[str, float]
                  | None = None, ylabel: str = "target test accuracy"):
    """Grouped bars: one group per pair, one bar per method; ceilings as black ticks."""
    pairs = list(next(iter(results.values())).keys())
    methods = list(results)
    fig, ax = figure(size=(max(5.0, 1.6 * len(pairs) + 1.5), 3.4))
    width = 0.8 / len(methods)
    for k, m in enumerate(methods):
        xs = np.arange(len(pairs)) + (k - (len(methods) - 1) / 2) * width
        ax.bar(xs, [results[m][p] for p in pairs], width, label=m)
    if ceiling:
        for i, p in enumerate(pairs):
            ax.hlines(ceiling[p], i - 0.42, i + 0.42, colors="k", linestyles="--", linewidth=1)
    ax.set_xticks(np.arange(len(pairs)), pairs, fontsize=8, rotation=10)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=min(4, len(methods)), loc="lower left")
    fig.tight_layout()
    return fig
