"""Where does the model look? Saliency on a clean and a shortcut model, and cluster discovery.

Data (simulated, :mod:`introdl.health.skin`, all six skin types equally often). Two
copies of the same small CNN (:mod:`introdl.health.skin_model`) are trained:

- *clean*: the training images carry the artefact too (``shortcut="marker"``: a purple
  ink dot in a corner on half the images), but independent of the label (``cue=0``);
- *shortcut*: the same kind of training set with the artefact tied to the label
  (``cue``: the dot on (1 + cue)/2 of malignant and (1 - cue)/2 of benign images).
  With ``shortcut="tone"`` the label is tied to skin type instead.

Both are scored on the same shortcut-free test set (``cue=0``). On ``n_explain`` test
images, Captum's integrated gradients (baseline: the image's median colour) and plain
gradients give a map per image; the share of |attribution| inside the lesion mask (and
inside the marker's pixels, on images that have one) is compared with the region's
share of the image area (:mod:`introdl.health.saliency`).

Discovery (:mod:`introdl.health.discovery`): k-means on the clean model's penultimate
embeddings of the test images, each cluster's most typical images and its share of
malignant lesions (Fisher's exact test against the rest), and a similar-image search
(cosine nearest neighbours): how often an image's five nearest neighbours share its label.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from introdl.config import require
from introdl.experiment import Claim, Fact, experiment
from introdl.health import skin_model
from introdl.health.discovery import discover, similar
from introdl.health.saliency import area_share, attribution_maps, mask_share
from introdl.health.skin import SkinLesions, simulate
from introdl.report.plots import figure
from introdl.report.tables import markdown_table
from introdl.run import Run

MODELS = ("clean", "shortcut")
METHODS = {"ig": "integrated gradients", "grad": "gradient"}


@dataclass
class ExplainConfig:
    shortcut: str = "marker"  # the training shortcut: marker (ink dot) or tone (skin type)
    cue: float = 0.95  # its correlation strength in the shortcut model's training set
    n_train: int = 5000  # training images per model
    n_test: int = 3000  # shortcut-free test images
    n_explain: int = 300  # test images explained (saliency)
    steps: int = 2000  # Adam steps per model (batch 64)
    noise: float = 0.06  # sensor noise s.d. of the simulated images
    ig_steps: int = 32  # integrated-gradients path steps
    ig_baseline: str = "median"  # IG baseline: median (image's own colour) or black
    clusters: int = 8  # k-means clusters of the clean model's embeddings

    def validate(self) -> None:
        require(self, "shortcut", self.shortcut in ("marker", "tone"), "must be marker or tone")
        require(self, "cue", 0 < self.cue <= 1, "must be in (0, 1]")
        require(self, "n_train", self.n_train >= 100, "must be at least 100")
        require(self, "n_test", self.n_test >= 50, "must be at least 50")
        require(self, "n_explain", 1 <= self.n_explain <= self.n_test,
                "must be between 1 and n_test")
        require(self, "steps", self.steps >= 1, "must be at least 1")
        require(self, "ig_steps", self.ig_steps >= 2, "must be at least 2")
        require(self, "ig_baseline", self.ig_baseline in ("median", "black"),
                "must be median or black")
        require(self, "clusters", 2 <= self.clusters <= self.n_test,
                "must be between 2 and n_test")


@experiment(
    name="explain", lecture=12,
    title="Saliency (Captum IG and gradients) on a clean and a shortcut model, and "
          "cluster-based discovery (simulated skin lesions)",
    claims=[
        Claim("a model trained without the shortcut puts about half or more of its "
              "integrated-gradients attribution on the lesion (share inside the mask; the "
              "mask covers ~15% of the simulated image)", metric="clean_ig_lesion_share",
              expected=0.45, compare=">="),
        Claim("... several times the lesion's share of the image area (IG share / area)",
              metric="clean_ig_lesion_over_area", expected=2.5, compare=">="),
        Claim("on images carrying the ink marker, the shortcut model puts less IG attribution "
              "on the lesion than the clean model (clean minus shortcut; small: the lesion "
              "still draws much of it)", metric="ig_lesion_share_drop_marked",
              expected=0.0, compare=">"),
        Claim("... and more on the marker (IG share inside the marker's ~2% of the image; "
              "shortcut minus clean)", metric="ig_cue_share_rise", expected=0.1,
              compare=">="),
        Claim("the shortcut model is less accurate on shortcut-free (simulated) test data",
              metric="shortcut_acc_drop", expected=0.05, compare=">="),
        Claim("the clean model's embeddings cluster by outcome: the most malignant k-means "
              "cluster is far above the base rate (its malignant share)",
              metric="top_cluster_malignant_share", expected=0.85, compare=">="),
        Claim("images with IG and gradient maps for both models, lesion outlined (figure)"),
    ],
    facts=[
        Fact("lesion mask's mean share of the image area", "lesion_area_share"),
        Fact("clean model, plain-gradient lesion share", "clean_grad_lesion_share"),
        Fact("IG lesion share on all explained images (half carry a marker), clean minus "
             "shortcut (smaller than on marked images: without a marker the shortcut model "
             "reads the lesion)", "ig_lesion_share_drop"),
        Fact("plain gradients, images with a marker: lesion share, clean minus shortcut",
             "grad_lesion_share_drop_marked"),
        Fact("plain gradients: marker share, shortcut minus clean", "grad_cue_share_rise"),
        Fact("shortcut model, plain-gradient lesion share", "shortcut_grad_lesion_share"),
        Fact("similar-image search: share of the 5 nearest (cosine) test images with the "
             "query's label", "similar_same_label_at5"),
    ],
    quick={"n_train": 3000, "n_test": 1200, "n_explain": 120, "steps": 700},
)
def explain(cfg: ExplainConfig, run: Run) -> dict[str, float]:
    start = time.perf_counter()
    rng = np.random.default_rng(run.seed)
    kw = {"shortcut": cfg.shortcut, "noise": cfg.noise}
    train = {"clean": simulate(cfg.n_train, rng, cue=0.0, **kw),
             "shortcut": simulate(cfg.n_train, rng, cue=cfg.cue, **kw)}
    test = simulate(cfg.n_test, rng, cue=0.0, **kw)
    nets = {m: skin_model.train(train[m].images, train[m].labels, steps=cfg.steps,
                                seed=run.seed, progress=run.progress, desc=m)
            for m in MODELS}
    metrics: dict[str, float] = {}
    for m in MODELS:
        metrics[f"{m}_test_acc"] = float(((skin_model.scores(nets[m], test.images) >= 0.5)
                                          == test.labels).mean())
        if cfg.shortcut == "marker":  # accuracy on the cue's own (training) distribution
            tr = train[m]
            metrics[f"{m}_train_acc"] = float(((skin_model.scores(nets[m], tr.images) >= 0.5)
                                               == tr.labels).mean())
    metrics["shortcut_acc_drop"] = metrics["clean_test_acc"] - metrics["shortcut_test_acc"]
    ex = test.subset(np.arange(cfg.n_explain))
    has_cue = ex.cue_mask.any(axis=(1, 2))
    metrics["lesion_area_share"] = float(area_share(ex.mask).mean())
    maps = {}
    for m in MODELS:
        for meth in METHODS:
            maps[m, meth] = attribution_maps(nets[m], ex.images, meth, ig_steps=cfg.ig_steps,
                                             baseline=cfg.ig_baseline)
            metrics[f"{m}_{meth}_lesion_share"] = float(np.nanmean(mask_share(maps[m, meth],
                                                                              ex.mask)))
            if has_cue.any():  # images carrying the marker: lesion vs marker
                metrics[f"{m}_{meth}_cue_share"] = float(np.nanmean(
                    mask_share(maps[m, meth][has_cue], ex.cue_mask[has_cue])))
                metrics[f"{m}_{meth}_lesion_share_marked"] = float(np.nanmean(
                    mask_share(maps[m, meth][has_cue], ex.mask[has_cue])))
    if has_cue.any():
        metrics["cue_area_share"] = float(area_share(ex.cue_mask[has_cue]).mean())
    for meth in METHODS:
        metrics[f"{meth}_lesion_share_drop"] = (metrics[f"clean_{meth}_lesion_share"]
                                                - metrics[f"shortcut_{meth}_lesion_share"])
        if has_cue.any():
            metrics[f"{meth}_cue_share_rise"] = (metrics[f"shortcut_{meth}_cue_share"]
                                                 - metrics[f"clean_{meth}_cue_share"])
            metrics[f"{meth}_lesion_share_drop_marked"] = (
                metrics[f"clean_{meth}_lesion_share_marked"]
                - metrics[f"shortcut_{meth}_lesion_share_marked"])
    metrics["clean_ig_lesion_over_area"] = (metrics["clean_ig_lesion_share"]
                                            / metrics["lesion_area_share"])
    # discovery on the clean model's embeddings of the test images (outcome: malignant)
    emb = skin_model.embeddings(nets["clean"], test.images)
    found = discover(emb, test.labels, k=cfg.clusters, seed=run.seed)
    metrics["top_cluster_malignant_share"] = found.best().outcome_share
    metrics["top_cluster_size"] = float(found.best().size)
    metrics["bottom_cluster_malignant_share"] = found.clusters[-1].outcome_share
    metrics["malignant_base_rate"] = found.overall_share
    queries = np.arange(min(len(test), 300))
    same = [float((test.labels[similar(emb, int(q), k=5)[0]] == test.labels[q]).mean())
            for q in queries]
    metrics["similar_same_label_at5"] = float(np.mean(same))
    metrics["seconds"] = time.perf_counter() - start

    rows = [[m, f"{metrics[f'{m}_test_acc']:.3f}"]
            + [f"{metrics[f'{m}_{meth}_lesion_share']:.3f}" for meth in METHODS]
            + ([f"{metrics[f'{m}_{meth}_cue_share']:.3f}" for meth in METHODS]
               if has_cue.any() else []) for m in MODELS]
    header = (["model", "test acc (no shortcut)"]
              + [f"{METHODS[meth]}: share on lesion" for meth in METHODS]
              + ([f"{METHODS[meth]}: share on marker" for meth in METHODS]
                 if has_cue.any() else []))
    table = markdown_table(header, rows)
    note = (f"Simulated skin lesions (introdl.health.skin), shortcut={cfg.shortcut}, "
            f"cue={cfg.cue:g} in the shortcut model's training set, none at test. Lesion "
            f"mask = {metrics['lesion_area_share']:.3f} of the image area"
            + (f"; marker = {metrics['cue_area_share']:.3f} on images with one"
               if has_cue.any() else "") + ".\n")
    clusters = markdown_table(
        ["cluster", "size", "malignant share", "enrichment", "Fisher p"],
        [[c.index, c.size, f"{c.outcome_share:.2f}", f"{c.enrichment:.2f}",
          f"{c.p_value:.1e}"] for c in found.clusters])
    run.print(table + note + "\nk-means clusters of the clean model's test embeddings:\n"
              + clusters)
    run.save_text("results.md", table + "\n" + note + "\n" + clusters
                  + f"\nSimilar-image search: {metrics['similar_same_label_at5']:.3f} of the 5 "
                  "nearest test images share the query's label.\n")
    run.save_figure(_saliency_figure(ex, maps), "saliency.png")
    run.save_figure(_cluster_figure(test, found, emb), "clusters.png")
    return metrics


def _rgb(img: np.ndarray) -> np.ndarray:
    return np.clip(img.transpose(1, 2, 0), 0, 1)


def _examples(ex: SkinLesions, n: int = 4) -> list[int]:
    """Malignant/benign, with/without a marker where possible: one of each, then the rest."""
    has = ex.cue_mask.any(axis=(1, 2))
    picks: list[int] = []
    for lab, cue in ((1, True), (0, True), (1, False), (0, False)):
        idx = np.flatnonzero((ex.labels == lab) & (has == cue))
        if len(idx):
            picks.append(int(idx[0]))
    rest = [i for i in range(len(ex)) if i not in picks]
    return (picks + rest)[:n]


def _saliency_figure(ex: SkinLesions, maps):
    rows = _examples(ex)
    cols = [("clean", "ig"), ("clean", "grad"), ("shortcut", "ig"), ("shortcut", "grad")]
    fig, axes = figure(1 + len(cols), len(rows), size=(1.9, 1.9), squeeze=False)
    for r, i in enumerate(rows):
        axes[r, 0].imshow(_rgb(ex.images[i]))
        axes[r, 0].set_title(("malignant" if ex.labels[i] else "benign")
                             + f", type {ex.skin_type[i]}", fontsize=7)
        for c, (m, meth) in enumerate(cols, start=1):
            axes[r, c].imshow(maps[m, meth][i], cmap="magma")
            if r == 0:
                axes[r, c].set_title(f"{m}: {METHODS[meth]}", fontsize=7)
        for ax in axes[r]:
            ax.contour(ex.mask[i], levels=[0.5], colors="cyan", linewidths=0.8)
            if ex.cue_mask[i].any():
                ax.contour(ex.cue_mask[i], levels=[0.5], colors="lime", linewidths=0.8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("simulated lesions: |attribution| (lesion cyan, ink marker green)", fontsize=8)
    fig.tight_layout()
    return fig


def _cluster_figure(test: SkinLesions, found, emb, n_show: int = 6):
    shown = found.clusters
    fig, axes = figure(n_show, len(shown) + 1, size=(1.1, 1.1), squeeze=False)
    for r, c in enumerate(shown):
        for j in range(n_show):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(c.nearest):
                ax.imshow(_rgb(test.images[c.nearest[j]]))
        axes[r, 0].set_ylabel(f"c{c.index}: {c.outcome_share:.0%}\nn={c.size}", fontsize=6)
    q = int(found.best().nearest[0])
    idx, sims = similar(emb, q, k=n_show - 1)
    last = axes[len(shown)]
    for j, (i, title) in enumerate([(q, "query")] + [(int(i), f"cos {s:.3f}")
                                                     for i, s in zip(idx, sims, strict=True)]):
        last[j].imshow(_rgb(test.images[i]))
        last[j].set_title(title, fontsize=6)
        last[j].set_xticks([])
        last[j].set_yticks([])
    last[0].set_ylabel("similar\nsearch", fontsize=6)
    fig.suptitle("k-means clusters of clean-model embeddings (simulated): nearest images, "
                 "malignant share", fontsize=7)
    fig.tight_layout()
    return fig
