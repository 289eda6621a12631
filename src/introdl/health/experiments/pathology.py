"""Pathology: a two-stream patch model on simulated slides, FROC, and model + pathologist.

Slides come from :mod:`introdl.health.slide` (real IHC tissue texture, tumour lesions of
log-uniform size, benign hyperchromatic or dense mimics). Three disjoint sets of slides:
*train* (balanced patches for the model, ``hard_share`` of the negatives from annotated benign
lookalikes), *validation* (the model's operating threshold: the lowest score threshold with
at most ``operating_fps`` false positives per slide there), *test*
(every number reported). The model (:mod:`introdl.health.patch_model`) sees a
high-magnification patch and its low-magnification context; a single-stream (high-mag only)
model with the same budget is the baseline that asks whether context helps. Heat maps ->
local maxima -> FROC (:mod:`introdl.health.froc`; a detection within ``hit_tolerance`` px of a
lesion is a hit). A panel of ``readers`` simulated pathologists
(:mod:`introdl.health.pathologist`: no false positives, small lesions missed, 73% overall)
reads the test slides alone and again reviewing the model's flagged regions (its detections
at the operating threshold, at most ``top_k`` per slide).
Finally :mod:`introdl.health.discovery` clusters the model's patch embeddings on the test
slides and reports the clusters' tumour shares, plus one similar-patch search.

With ``--set data=pathmnist`` the experiment reads the real MedMNIST PathMNIST file
(NCT-CRC-HE colorectal H&E patches, 3x28x28; label 8, adenocarcinoma epithelium, is tumour)
from ``$INTRODL_DATA/pathmnist/`` and runs at patch level only: the high-magnification
stream (no low-magnification context exists for these isolated patches) is trained tumour vs
not on ``pathmnist_train`` training patches, its threshold is picked on the validation split
(Youden's J) and the test split gives the patch AUC, sensitivity and specificity and the
discovery clusters. FROC and the pathologist comparison need whole slides and are not
computed there, so the slide-level claims report as failed (their metrics are absent).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import roc_auc_score, roc_curve

from introdl.config import require
from introdl.experiment import Claim, Fact, experiment
from introdl.health.discovery import discover, similar
from introdl.health.froc import detections, evaluate, froc, hit_labels
from introdl.health.patch_model import (
    SlideTensor,
    TwoStreamNet,
    embed,
    heat_map,
    sample_patches,
    train_patch_model,
)
from introdl.health.pathologist import assisted, calibrate, unaided
from introdl.health.slide import SlideParams, simulate_slide
from introdl.report.plots import figure
from introdl.run import Run

FP_RATES = (1, 2, 4, 8)
DATA = ("simulated", "pathmnist")
TUMOUR = 8  # PathMNIST's class 8: colorectal adenocarcinoma epithelium


@dataclass
class PathologyConfig:
    size: int = 2048  # slide side (px)
    train_slides: int = 6
    val_slides: int = 3
    test_slides: int = 8
    n_lesions: int = 6  # tumour lesions per slide
    n_mimics: int = 6  # benign mimics per slide
    r_min: float = 10.0  # lesion radius range (px), log-uniform
    r_max: float = 80.0
    patch: int = 32  # high-mag patch side (px); the context covers patch * factor
    factor: int = 4  # low-mag downsampling of the context stream
    width: int = 16  # CNN width
    steps: int = 1500  # Adam steps
    batch_size: int = 64
    lr: float = 2e-3
    stride: int = 16  # heat-map cell (px)
    hit_tolerance: float = 16.0  # a detection this near a lesion is a hit (px)
    operating_fps: float = 4.0  # operating point: FPs/slide allowed on validation slides
    hard_share: float = 0.3  # share of negative training patches from benign mimics
    pathologist_sensitivity: float = 0.73
    steepness: float = 3.0
    confirm: float = 0.95
    accept_fp: float = 0.02
    top_k: int = 20  # at most this many flagged regions per slide are reviewed
    readers: int = 10  # simulated pathologists (their mean is reported)
    single_stream: bool = True  # also train the high-mag-only baseline
    clusters: int = 6  # discovery: k-means clusters
    embed_patches: int = 1500  # discovery: patches embedded from the test slides
    data: str = "simulated"  # or pathmnist (the real MedMNIST file, patch level only)
    pathmnist_train: int = 20000  # data=pathmnist: training patches used (random subsample)

    def validate(self) -> None:
        require(self, "size", self.size >= 256 and self.size % self.factor == 0,
                "must be >= 256 and a multiple of factor")
        for key in ("train_slides", "val_slides", "test_slides", "n_lesions", "readers",
                    "steps", "top_k"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        require(self, "r_min", 4 <= self.r_min <= self.r_max, "need 4 <= r_min <= r_max")
        require(self, "r_max", self.r_max <= 120, "must be <= 120 px (the texture source)")
        require(self, "patch", self.patch >= 8 and self.patch % 2 == 0, "even, >= 8")
        require(self, "stride", 1 <= self.stride <= self.patch, "1..patch")
        require(self, "operating_fps", self.operating_fps >= 0, "must be >= 0")
        require(self, "hard_share", 0 <= self.hard_share <= 1, "in [0, 1]")
        require(self, "pathologist_sensitivity", 0 < self.pathologist_sensitivity < 1,
                "in (0, 1)")
        require(self, "confirm", 0 <= self.confirm <= 1, "a probability")
        require(self, "accept_fp", 0 <= self.accept_fp <= 1, "a probability")
        require(self, "clusters", 2 <= self.clusters <= 20, "2..20")
        require(self, "embed_patches", self.embed_patches >= 10 * self.clusters,
                "need at least 10 patches per cluster")
        require(self, "data", self.data in DATA, f"must be one of {', '.join(DATA)}")
        require(self, "pathmnist_train", self.pathmnist_train >= 100, "must be at least 100")


def _slides(cfg: PathologyConfig, seed: int, n: int, offset: int):
    params = SlideParams(size=cfg.size, n_lesions=cfg.n_lesions, n_mimics=cfg.n_mimics,
                         r_min=cfg.r_min, r_max=cfg.r_max)
    return [simulate_slide(np.random.default_rng([seed, offset + i]), params) for i in range(n)]


def _model_reads(model, tensors, slides, cfg):
    heats = [heat_map(model, t, cfg.stride) for t in tensors]
    dets = [detections(h, cfg.stride) for h in heats]
    labels = [hit_labels(s.labels, cfg.hit_tolerance) for s in slides]
    return heats, dets, labels


def _train(cfg, context, tensors, slides, seed, run):
    torch.manual_seed(seed)
    model = TwoStreamNet(cfg.width, context=context)
    # a cell is tumour when tumour lies within half a stride of its centre: the patch labels
    # are the lesions grown by stride / 2 (so small lesions between grid centres are learnt)
    grown = [hit_labels(s.labels, cfg.stride / 2) for s in slides]
    losses = train_patch_model(model, tensors, grown, cfg.steps,
                               cfg.batch_size, cfg.lr, seed, [s.benign for s in slides],
                               cfg.hard_share, run.progress)
    return model, float(np.mean(losses[-50:]))


@experiment(
    name="pathology", lecture=12,
    title="Pathology: two-stream patch model, FROC, and model-assisted pathologist "
          "(simulated slides)",
    claims=[
        Claim("the model finds more lesions than the pathologist (lecture: >95% vs 73%; "
              "simulated slides, test set, operating point set on validation slides)",
              metric="model_minus_pathologist", expected=0.1, compare=">=", quick_expected=0.05),
        Claim("... with more false positives (pathologist: none)", metric="model_fps",
              expected=0.0, compare=">"),
        Claim("model lesion sensitivity at 8 FPs/slide is high (lecture: >95%; simulated "
              "slides, target here 0.85)",
              metric="model_sens_at_8fp", expected=0.85, compare=">=", quick_expected=0.75),
        Claim("the combination beats both: the pathologist reviewing the model's flagged "
              "regions finds more lesions than the pathologist alone (simulated)",
              metric="assisted_minus_pathologist", expected=0.1, compare=">=",
              quick_expected=0.05),
        Claim("... with fewer false positives than the model alone (FPs/slide)",
              metric="model_minus_assisted_fps", expected=1.0, compare=">="),
        Claim("discovery: the model's embedding has a cluster enriched in tumour patches "
              "(share >= 2x the overall share)", metric="discovery_enrichment",
              expected=2.0, compare=">="),
        Claim("slide, heat map, detections; FROC with the pathologist's point; clusters "
              "(figures)"),
    ],
    facts=[
        Fact("does context help? two-stream minus high-mag-only model, mean FROC "
             "sensitivity at 1/2/4/8 FPs/slide (not claimed: its sign varies by seed)",
             "context_gain"),
        Fact("assisted read minus the model alone, lesion sensitivity", "assisted_minus_model"),
        Fact("small lesions (r < 2 r_min): model sensitivity", "model_small_sensitivity"),
        Fact("small lesions (r < 2 r_min): pathologist sensitivity",
             "pathologist_small_sensitivity"),
    ],
    quick={"size": 1024, "train_slides": 3, "val_slides": 2, "test_slides": 3, "steps": 300,
           "n_lesions": 8, "embed_patches": 600, "readers": 20},
)
def pathology(cfg: PathologyConfig, run: Run) -> dict[str, float]:
    if cfg.data == "pathmnist":
        return _run_pathmnist(cfg, run)
    start = time.perf_counter()
    train = _slides(cfg, run.seed, cfg.train_slides, 0)
    val = _slides(cfg, run.seed, cfg.val_slides, 1000)
    test = _slides(cfg, run.seed, cfg.test_slides, 2000)
    t_train, t_val, t_test = ([SlideTensor(s.image, cfg.patch, cfg.factor) for s in ss]
                              for ss in (train, val, test))
    run.print(f"simulated slides: {cfg.train_slides} train, {cfg.val_slides} validation, "
              f"{cfg.test_slides} test, {cfg.size} px, {sum(len(s.lesions) for s in test)} "
              f"test lesions")

    metrics: dict[str, float] = {}
    reads = {}
    for name, context in (("model", True), ("single", False)):
        if name == "single" and not cfg.single_stream:
            continue
        model, loss = _train(cfg, context, t_train, train, run.seed, run)
        _, vdets, vlabels = _model_reads(model, t_val, val, cfg)
        thr = froc(vdets, vlabels).threshold_for_fps(cfg.operating_fps)
        heats, dets, labels = _model_reads(model, t_test, test, cfg)
        curve = froc(dets, labels)
        sens, fps, flags = evaluate(dets, labels, thr)
        for f in FP_RATES:
            metrics[f"{name}_sens_at_{f}fp"] = curve.sensitivity_at(f)
        metrics[f"{name}_sensitivity"], metrics[f"{name}_fps"] = sens, fps
        metrics[f"{name}_threshold"] = thr
        metrics[f"{name}_final_loss"] = loss
        reads[name] = dict(model=model, heats=heats, dets=dets, labels=labels, curve=curve,
                           thr=thr, flags=flags)
        run.print(f"{name}: train loss {loss:.3f}, threshold {thr:.3f} (validation), test "
                  f"sensitivity {sens:.3f} at {fps:.2f} FPs/slide; FROC "
                  + ", ".join(f"{f} FP: {curve.sensitivity_at(f):.3f}" for f in FP_RATES))
    m = reads["model"]
    metrics["model_froc_mean"] = float(np.mean([metrics[f"model_sens_at_{f}fp"]
                                                for f in FP_RATES]))
    if cfg.single_stream:
        metrics["single_froc_mean"] = float(np.mean([metrics[f"single_sens_at_{f}fp"]
                                                     for f in FP_RATES]))
        metrics["context_gain"] = metrics["model_froc_mean"] - metrics["single_froc_mean"]

    # pathologists: alone, and reviewing the model's top regions
    law = np.exp(np.linspace(np.log(cfg.r_min), np.log(cfg.r_max), 2001))
    path = calibrate(law, cfg.pathologist_sensitivity, cfg.steepness, confirm=cfg.confirm,
                     accept_fp=cfg.accept_fp)
    radii = [np.array([les.radius for les in s.lesions]) for s in test]
    rng = np.random.default_rng([run.seed, 7])
    # the assisted read reviews the model's flagged regions: its detections at the operating
    # threshold (set on validation slides), best first
    flagged = [d[d[:, 2] >= m["thr"]] if len(d) else d for d in m["dets"]]
    alone_s, help_s, help_fp, alone_flags, help_flags = [], [], [], [], []
    for _ in range(cfg.readers):
        alone = unaided(path, radii, rng)
        helped, fps = assisted(path, alone, flagged, m["labels"], cfg.top_k, rng)
        alone_flags.append(np.concatenate(alone))
        help_flags.append(np.concatenate(helped))
        alone_s.append(alone_flags[-1].mean())
        help_s.append(help_flags[-1].mean())
        help_fp.append(fps.mean())
    metrics["pathologist_sensitivity"] = float(np.mean(alone_s))
    metrics["pathologist_fps"] = 0.0
    metrics["assisted_sensitivity"] = float(np.mean(help_s))
    metrics["assisted_fps"] = float(np.mean(help_fp))
    metrics["pathologist_r50"] = path.r50
    metrics["model_minus_pathologist"] = metrics["model_sensitivity"] \
        - metrics["pathologist_sensitivity"]
    metrics["assisted_minus_pathologist"] = metrics["assisted_sensitivity"] \
        - metrics["pathologist_sensitivity"]
    metrics["assisted_minus_model"] = metrics["assisted_sensitivity"] \
        - metrics["model_sensitivity"]
    metrics["model_minus_assisted_fps"] = metrics["model_fps"] - metrics["assisted_fps"]
    r_all = np.concatenate(radii)
    small = r_all < 2 * cfg.r_min
    metrics["small_lesions"] = float(small.sum())
    if small.any():
        metrics["model_small_sensitivity"] = float(m["flags"][small].mean())
        metrics["pathologist_small_sensitivity"] = float(np.mean([f[small].mean()
                                                                  for f in alone_flags]))
    run.print(f"pathologists ({cfg.readers} simulated readers, r50 = {path.r50:.1f} px): "
              f"sensitivity {metrics['pathologist_sensitivity']:.3f} at 0 FPs; assisted "
              f"(reviewing the model's flagged regions) {metrics['assisted_sensitivity']:.3f} "
              f"at "
              f"{metrics['assisted_fps']:.2f} FPs/slide")

    # discovery on the two-stream model's embeddings of test patches
    drng = np.random.default_rng([run.seed, 11])
    cys, cxs, ys, owners = [], [], [], []
    per = max(cfg.embed_patches // len(test), 4)
    for i, s in enumerate(test):
        n_t = per // 4  # a quarter centred on tumour, the rest anywhere else
        cy_t, cx_t, _ = sample_patches(s.labels, 2 * n_t, drng)
        cy_t, cx_t = cy_t[:n_t], cx_t[:n_t]
        cy_n = drng.integers(0, s.image.shape[0], per - n_t)
        cx_n = drng.integers(0, s.image.shape[1], per - n_t)
        cy, cx = np.concatenate([cy_t, cy_n]), np.concatenate([cx_t, cx_n])
        cys.append(cy)
        cxs.append(cx)
        ys.append(s.mask[cy, cx].astype(float))
        owners.append(np.full(len(cy), i))
    emb = np.concatenate([embed(m["model"], t_test[i], cys[i], cxs[i])
                          for i in range(len(test))])
    cy, cx, y, owner = (np.concatenate(a) for a in (cys, cxs, ys, owners))
    group = owner if len(test) > 1 else np.arange(len(owner))  # one slide: search it all
    disc = discover(emb, y, k=cfg.clusters, seed=run.seed)
    best = disc.best()
    metrics["discovery_enrichment"] = best.enrichment
    metrics["discovery_best_share"] = best.outcome_share
    metrics["discovery_overall_share"] = disc.overall_share
    metrics["discovery_best_p"] = best.p_value
    query = int(best.nearest[0])
    # "where else does this look occur?": the most similar patches on the other test slides
    sim_idx, sim_val = similar(emb, query, 5, exclude=group == group[query])
    metrics["similar_same_label"] = float((y[sim_idx] == y[query]).mean())
    run.print("discovery clusters (tumour share, overall "
              f"{disc.overall_share:.2f}): " + ", ".join(
                  f"#{c.index} n={c.size} {c.outcome_share:.2f}" for c in disc.clusters))
    metrics["minutes"] = (time.perf_counter() - start) / 60

    table = _table(cfg, metrics)
    run.print(table)
    run.save_text("results.md", table)
    run.save_figure(_slide_figure(test[0], m, path, cfg, rng), "slide.png")
    run.save_figure(_froc_figure(reads, metrics), "froc.png")
    patches = [test[o].image for o in owner]
    run.save_figure(_discovery_figure(disc, patches, cy, cx, query, sim_idx, sim_val),
                    "discovery.png")
    return metrics


def _run_pathmnist(cfg: PathologyConfig, run: Run) -> dict[str, float]:
    """Patch level on the real PathMNIST file: train / validation threshold / test."""
    from introdl.health import medmnist

    start = time.perf_counter()
    m = medmnist.load_medmnist("pathmnist")
    rng = np.random.default_rng([run.seed, 13])
    keep = rng.permutation(len(m.y_train))[:cfg.pathmnist_train]
    x_tr, y_tr = m.x_train[keep], (m.y_train[keep] == TUMOUR).astype(np.float32)
    # per-channel standardisation with the training patches' statistics
    tr = torch.from_numpy(x_tr).float().permute(0, 3, 1, 2) / 255.0
    mean, std = tr.mean((0, 2, 3), keepdim=True), tr.std((0, 2, 3), keepdim=True) + 1e-6

    def prep(x: np.ndarray) -> torch.Tensor:
        return (torch.from_numpy(x).float().permute(0, 3, 1, 2) / 255.0 - mean) / std

    tr = (tr - mean) / std
    run.print("slide-level claims need simulated slides; this run reports patch-level "
              "metrics on the real PathMNIST file")
    run.print(f"real PathMNIST: {len(y_tr)} train (subsample of {len(m.y_train)}), "
              f"{len(m.y_val)} validation, {len(m.y_test)} test patches; tumour share "
              f"{y_tr.mean():.3f} (train); high-mag stream only (no context in 28x28 patches)")
    torch.manual_seed(run.seed)
    model = TwoStreamNet(cfg.width, context=False)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    pos, neg = np.flatnonzero(y_tr == 1), np.flatnonzero(y_tr == 0)
    losses = []
    model.train()
    for _ in range(cfg.steps):  # balanced batches, random flips, as on the slides
        half = cfg.batch_size // 2
        idx = np.concatenate([rng.choice(pos, half) if len(pos) else rng.choice(neg, half),
                              rng.choice(neg, cfg.batch_size - half)])
        xb = tr[idx]
        if rng.random() < 0.5:
            xb = xb.flip(3)
        if rng.random() < 0.5:
            xb = xb.flip(2)
        loss = loss_fn(model(xb), torch.from_numpy(y_tr[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()

    @torch.no_grad()
    def score(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feats = np.concatenate([model.features(prep(x[i:i + 1024])).numpy()
                                for i in range(0, len(x), 1024)])
        logits = model.head(torch.from_numpy(feats)).squeeze(1)
        return torch.sigmoid(logits).numpy(), feats

    y_va, y_te = (m.y_val == TUMOUR).astype(int), (m.y_test == TUMOUR).astype(int)
    p_va, _ = score(m.x_val)
    p_te, emb = score(m.x_test)
    fpr, tpr, thr = roc_curve(y_va, p_va)  # the operating threshold: Youden's J on validation
    t = float(thr[int(np.argmax(tpr - fpr))])
    pred = p_te >= t
    metrics = {
        "patch_auc": float(roc_auc_score(y_te, p_te)),
        "patch_val_auc": float(roc_auc_score(y_va, p_va)),
        "patch_sensitivity": float(pred[y_te == 1].mean()),
        "patch_specificity": float((~pred[y_te == 0]).mean()),
        "patch_threshold": t,
        "patch_final_loss": float(np.mean(losses[-50:])),
        "train_patches": float(len(y_tr)),
        "test_tumour_share": float(y_te.mean()),
    }
    disc = discover(emb, y_te.astype(float), k=cfg.clusters, seed=run.seed)
    best = disc.best()
    metrics["discovery_enrichment"] = best.enrichment
    metrics["discovery_best_share"] = best.outcome_share
    metrics["discovery_overall_share"] = disc.overall_share
    metrics["discovery_best_p"] = best.p_value
    metrics["minutes"] = (time.perf_counter() - start) / 60
    table = "\n".join([
        "Real PathMNIST (NCT-CRC-HE), test split, patch level: tumour (class 8) vs the rest; "
        "threshold picked on the validation split. Slide-level FROC and the pathologist "
        "comparison need whole slides and are not computed on these patches.", "",
        "| patch AUC | sensitivity | specificity | threshold | best cluster tumour share | "
        "enrichment |", "|---|---|---|---|---|---|",
        f"| {metrics['patch_auc']:.3f} | {metrics['patch_sensitivity']:.3f} | "
        f"{metrics['patch_specificity']:.3f} | {t:.3f} | {best.outcome_share:.2f} "
        f"(overall {disc.overall_share:.2f}) | {best.enrichment:.2f} |"]) + "\n"
    run.print(table)
    run.save_text("results.md", table)
    return metrics


def _table(cfg: PathologyConfig, m: dict[str, float]) -> str:
    rows = [("two-stream model (operating point)", m["model_sensitivity"], m["model_fps"])]
    if cfg.single_stream:
        rows.append(("high-mag only model (operating point)", m["single_sensitivity"],
                     m["single_fps"]))
    rows += [("pathologist alone", m["pathologist_sensitivity"], 0.0),
             ("pathologist reviewing the model's flagged regions", m["assisted_sensitivity"],
              m["assisted_fps"])]
    lines = ["Simulated slides (test set); lesion sensitivity and false positives per slide.",
             "", "| reader | sensitivity | FPs/slide |", "|---|---|---|"]
    lines += [f"| {n} | {s:.3f} | {f:.2f} |" for n, s, f in rows]
    lines += ["", "| FROC: sensitivity at | " + " | ".join(f"{f} FP" for f in FP_RATES) + " |",
              "|---|" + "---|" * len(FP_RATES)]
    for name, label in (("model", "two-stream"), ("single", "high-mag only")):
        if f"{name}_sens_at_1fp" in m:
            lines.append(f"| {label} | " + " | ".join(f"{m[f'{name}_sens_at_{f}fp']:.3f}"
                                                      for f in FP_RATES) + " |")
    return "\n".join(lines) + "\n"


def _slide_figure(slide, m, path, cfg, rng):
    heat, dets, labels = m["heats"][0], m["dets"][0], m["labels"][0]
    fig, axes = figure(4, 1, size=(3.4, 3.5))
    ds = max(slide.image.shape[0] // 512, 1)
    thumb = slide.image[::ds, ::ds]
    ext = (0, slide.image.shape[1], slide.image.shape[0], 0)
    for ax in axes:
        ax.imshow(thumb, extent=ext)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].contour(np.arange(0, slide.image.shape[1], ds), np.arange(0, slide.image.shape[0], ds),
                    slide.mask[::ds, ::ds], levels=[0.5], colors="lime", linewidths=1)
    for cy, cx, r, _kind in slide.mimics:
        axes[0].add_patch(_circle(cx, cy, r, "yellow", "--"))
    axes[0].set_title("slide: tumour (green), mimics (yellow)", fontsize=8)
    axes[1].imshow(heat, extent=ext, cmap="magma", vmin=0, vmax=1, alpha=0.75)
    axes[1].set_title("tumour probability (two-stream)", fontsize=8)
    keep = dets[dets[:, 2] >= m["thr"]] if len(dets) else dets
    ids = labels[keep[:, 0].astype(int), keep[:, 1].astype(int)] if len(keep) else []
    for (y, x, _s), k in zip(keep, ids, strict=True):
        axes[2].plot(x, y, "o" if k else "x", color="lime" if k else "red", ms=6, mfc="none")
    for les in slide.lesions:
        axes[2].add_patch(_circle(les.cx, les.cy, les.radius, "white", ":"))
    axes[2].set_title(f"model at validation threshold {m['thr']:.2f}: hits (o), FPs (x)",
                      fontsize=8)
    radii = [np.array([les.radius for les in slide.lesions])]
    alone = unaided(path, radii, rng)
    helped, _ = assisted(path, alone, [keep], [labels], cfg.top_k, rng)
    for les, a, h in zip(slide.lesions, alone[0], helped[0], strict=True):
        color = "deepskyblue" if a else "orange" if h else "red"
        axes[3].add_patch(_circle(les.cx, les.cy, les.radius * 1.4, color, "-"))
    axes[3].set_title("one reader: alone (blue), only with model (orange), missed (red)",
                      fontsize=7)
    fig.suptitle("simulated slide (test)", fontsize=9)
    fig.tight_layout()
    return fig


def _circle(x, y, r, color, ls):
    import matplotlib.patches as mpatches
    return mpatches.Circle((x, y), r, fill=False, color=color, ls=ls, lw=1.2)


def _froc_figure(reads, m):
    fig, ax = figure(1, 1, size=(4.8, 3.6))
    for name, label in (("model", "two-stream model"), ("single", "high-mag only")):
        if name in reads:
            c = reads[name]["curve"]
            ax.step(c.fps_per_slide, c.sensitivity, where="post", label=label)
    ax.plot([m["model_fps"]], [m["model_sensitivity"]], "s", color="C0",
            label="model operating point")
    ax.plot([0], [m["pathologist_sensitivity"]], "o", color="k", label="pathologist")
    ax.plot([m["assisted_fps"]], [m["assisted_sensitivity"]], "*", ms=12, color="C3",
            label="pathologist + model")
    ax.set_xlim(-0.2, 8.5)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("average false positives per slide")
    ax.set_ylabel("lesion sensitivity")
    ax.set_title("FROC on simulated test slides", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def _crop(image, cy, cx, half=24):
    h, w = image.shape[:2]
    y0, x0 = int(np.clip(cy - half, 0, h - 2 * half)), int(np.clip(cx - half, 0, w - 2 * half))
    return image[y0:y0 + 2 * half, x0:x0 + 2 * half]


def _discovery_figure(disc, images, cy, cx, query, sim_idx, sim_val):
    ncol = max(len(c.nearest) for c in disc.clusters)
    nrow = len(disc.clusters) + 1
    fig, axes = figure(ncol, nrow, size=(1.0, 1.05), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for r, c in enumerate(disc.clusters):
        for j, i in enumerate(c.nearest):
            axes[r, j].imshow(_crop(images[i], cy[i], cx[i]))
        axes[r, 0].set_title(f"cluster {c.index}: n={c.size}, tumour {c.outcome_share:.0%}",
                             fontsize=7, loc="left")
    axes[-1, 0].imshow(_crop(images[query], cy[query], cx[query]))
    axes[-1, 0].set_title("query", fontsize=7, loc="left")
    for j, (i, v) in enumerate(zip(sim_idx[:ncol - 1], sim_val, strict=False)):
        axes[-1, j + 1].imshow(_crop(images[i], cy[i], cx[i]))
        axes[-1, j + 1].set_title(f"cos {v:.2f}", fontsize=6)
    fig.suptitle(f"discovery: k-means on patch embeddings, nearest-to-centroid patches "
                 f"(overall tumour share {disc.overall_share:.0%}; simulated)\nbottom row: a "
                 "query and its most similar patches on other slides (cosine)", fontsize=8)
    fig.tight_layout()
    return fig
