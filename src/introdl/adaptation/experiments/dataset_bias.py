"""Dataset bias: the lecture CNN is excellent in its own digit domain and falls apart in others."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from introdl.adaptation.domains import OFFLINE, Domain, load_domain
from introdl.adaptation.metrics import class_silhouette, knn_class_accuracy
from introdl.adaptation.plots import sample_grid, tsne_panels
from introdl.adaptation.protocol import fmt, mean_std, source_only
from introdl.adaptation.train import Budget, accuracy, embed
from introdl.config import require
from introdl.experiment import Claim, experiment
from introdl.nn.baselines import fit_softmax_regression
from introdl.report.plots import figure
from introdl.report.tables import markdown_table
from introdl.run import Run


@dataclass
class DatasetBiasConfig:
    domains: str = ",".join(OFFLINE)  # comma-separated domains; each trains one source model
    source: str = ""  # with target: just this pair (e.g. source=svhn target=mnist)
    target: str = ""
    steps: int = 1200  # Adam steps per source model
    batch_size: int = 64  # mini-batch size
    lr: float = 1e-3  # Adam learning rate
    seeds: int = 3  # source models per domain (seeds run.seed, run.seed + 1, ...)
    # The t-SNE figure and class-separation numbers show tsne_source's model on its own and
    # tsne_target's test images; "" = mnist5k -> uci-digits when both run, else the first two.
    tsne_source: str = ""
    tsne_target: str = ""

    def names(self) -> list[str]:
        if self.source or self.target:
            return [self.source, self.target]
        return [n.strip() for n in self.domains.split(",") if n.strip()]

    def tsne_pair(self) -> tuple[str, str]:
        """The (source model, target images) of the t-SNE figure, defaults filled in."""
        names = self.names()
        if not self.tsne_source and not self.tsne_target:
            default = ("mnist5k", "uci-digits")
            return default if set(default) <= set(names) else (names[0], names[1])
        return self.tsne_source, self.tsne_target

    def validate(self) -> None:
        require(self, "source", bool(self.source) == bool(self.target),
                "set both --set source=NAME and --set target=NAME, or neither")
        require(self, "target", not self.source or self.source != self.target,
                f"source and target are both {self.source!r}; choose two different domains")
        names = self.names()
        require(self, "domains", len(names) >= 2 and len(set(names)) == len(names),
                "name at least two different domains, comma-separated, none twice")
        for key in ("steps", "batch_size", "seeds"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        require(self, "tsne_source", bool(self.tsne_source) == bool(self.tsne_target),
                "set both --set tsne_source=NAME and --set tsne_target=NAME, or neither")
        for key in ("tsne_source", "tsne_target"):
            require(self, key, not getattr(self, key) or getattr(self, key) in names,
                    f"must be one of the domains this run trains: {', '.join(names)}")
        require(self, "tsne_target", not self.tsne_source or self.tsne_source != self.tsne_target,
                "must differ from tsne_source")


@experiment(
    name="dataset-bias", lecture=10,
    title="The lecture CNN near 99% in its own digit domain drops across domains",
    claims=[
        Claim("in its own domain the CNN is near 99% on MNIST digits (mnist5k test accuracy)",
              metric="in_domain_mnist5k", expected=0.97, compare=">=", quick_expected=0.94),
        Claim("... and beats a linear classifier there (same run)",
              metric="in_domain_over_linear", expected=0.03, compare=">="),
        Claim("accuracy drops across domains (mean in-domain minus cross-domain accuracy)",
              metric="mean_cross_domain_drop", expected=0.25, compare=">=", quick_expected=0.15),
        Claim("the drop goes both ways between UCI digits and MNIST (the smaller of the two)",
              metric="min_drop_uci_mnist", expected=0.15, compare=">="),
        Claim("target features are less class-separated than the source's (silhouette "
              "of the classes, source minus target, mnist5k model on uci-digits)",
              metric="silhouette_gap", expected=0.1, compare=">="),
        Claim("t-SNE of features: source and target apart, target classes smeared (figure)"),
    ],
    quick={"domains": "mnist5k,uci-digits,mnist-m", "steps": 400, "seeds": 1},
)
def dataset_bias(cfg: DatasetBiasConfig, run: Run) -> dict[str, float]:
    names = cfg.names()
    domains = {n: load_domain(n) for n in names}
    budget = Budget(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr)
    acc = np.zeros((cfg.seeds, len(names), len(names)))  # [seed, source, target]
    models: dict[str, torch.nn.Module] = {}
    for k in range(cfg.seeds):
        for i, src in enumerate(names):
            model = source_only(domains[src], budget, run.seed + k, run.progress, desc=src)
            for j, tgt in enumerate(names):
                acc[k, i, j] = accuracy(model, domains[tgt].x_test, domains[tgt].y_test)
            if k == 0:
                models[src] = model
        run.print(f"seed {run.seed + k}: in-domain " + ", ".join(
            f"{n} {acc[k, i, i]:.3f}" for i, n in enumerate(names)))

    metrics: dict[str, float] = {}
    rows = []
    for i, src in enumerate(names):
        rows.append([f"**{src}**"] + [fmt(acc[:, i, j]) for j in range(len(names))])
        for j, tgt in enumerate(names):
            metrics[f"acc_{_key(src)}_to_{_key(tgt)}"] = float(acc[:, i, j].mean())
    table = markdown_table(["source \\ target", *names], rows)
    run.save_text("accuracy_matrix.md", table)
    run.print(table)
    run.save_figure(_matrix_figure(acc.mean(0), names), "accuracy_matrix.png")
    run.save_figure(sample_grid({n: d.x_test for n, d in domains.items()},
                                {n: d.y_test for n, d in domains.items()}), "domains.png")

    diag = np.array([acc[:, i, i].mean() for i in range(len(names))])
    drops = [diag[i] - acc[:, i, j].mean() for i in range(len(names))
             for j in range(len(names)) if i != j]
    metrics["mean_cross_domain_drop"] = float(np.mean(drops))
    for i, n in enumerate(names):
        metrics[f"in_domain_{_key(n)}"] = float(diag[i])
    if "mnist5k" in names:
        m = names.index("mnist5k")
        linear = _linear_accuracy(domains["mnist5k"])
        metrics["linear_mnist5k"] = linear
        metrics["in_domain_over_linear"] = float(diag[m] - linear)
        run.print(f"mnist5k in-domain: CNN {diag[m]:.3f} vs linear softmax {linear:.3f}")
    if "mnist5k" in names and "uci-digits" in names:
        m, u = names.index("mnist5k"), names.index("uci-digits")
        metrics["min_drop_uci_mnist"] = float(min(diag[m] - acc[:, m, u].mean(),
                                                  diag[u] - acc[:, u, m].mean()))
    metrics.update(_separation(cfg, models, domains, run))
    if cfg.seeds > 1:  # the sample standard deviation over seeds, as every table reports
        metrics["max_in_domain_std"] = max(mean_std(acc[:, i, i])[1] for i in range(len(names)))
    return metrics


def _separation(cfg: DatasetBiasConfig, models: dict[str, torch.nn.Module],
                domains: dict[str, Domain], run: Run) -> dict[str, float]:
    """How class-separated one source model's features are, on source vs target test images.

    Silhouette of the classes (cosine): for each image, (b - a) / max(a, b) with ``a`` its
    mean distance to its own class and ``b`` to the nearest other class; 1 = tight, apart
    clusters, 0 = overlapping. k-NN class accuracy is reported beside it. Both read the
    target's test labels, as analysis only: nothing is trained or chosen on them.
    """
    src, tgt = cfg.tsne_pair()  # validate() made sure both are among the run's domains
    model, s, t = models[src], domains[src], domains[tgt]
    fs, ft = embed(model, s.x_test), embed(model, t.x_test)
    knn_s, knn_t = knn_class_accuracy(fs, s.y_test), knn_class_accuracy(ft, t.y_test)
    sil_s, sil_t = class_silhouette(fs, s.y_test), class_silhouette(ft, t.y_test)
    run.print(f"{src}-model features, class silhouette: {src} {sil_s:.3f}, {tgt} {sil_t:.3f}; "
              f"k-NN class accuracy: {src} {knn_s:.3f}, {tgt} {knn_t:.3f}")
    run.save_figure(tsne_panels([(f"{src} model: {src} vs {tgt}", fs, s.y_test, ft, t.y_test)],
                                seed=run.seed), "tsne.png")
    return {"knn_source": knn_s, "knn_target": knn_t, "knn_separation_gap": knn_s - knn_t,
            "silhouette_source": sil_s, "silhouette_target": sil_t,
            "silhouette_gap": sil_s - sil_t}


def _linear_accuracy(d: Domain) -> float:
    """Softmax regression on raw pixels, same train/test parts: the trivial baseline."""
    gray = d.x_train.mean(1)  # (N, 3, 32, 32) -> (N, 32, 32)
    model = fit_softmax_regression(gray, d.y_train, 10, max_iter=200)
    with torch.no_grad():
        pred = model(d.x_test.mean(1)).argmax(1)
    return (pred == d.y_test).float().mean().item()


def _key(name: str) -> str:
    return name.replace("-", "_")


def _matrix_figure(acc: np.ndarray, names: list[str]):
    fig, ax = figure(size=(1.2 * len(names) + 1.5, 1.1 * len(names) + 1.0))
    im = ax.imshow(acc, vmin=0, vmax=1, cmap="viridis")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{acc[i, j]:.2f}", ha="center", va="center",
                    color="white" if acc[i, j] < 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("tested on (target)")
    ax.set_ylabel("trained on (source)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig
