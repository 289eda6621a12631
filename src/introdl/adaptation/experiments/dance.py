"""Category shift: source-only, DANN and DANCE when source and target share only some classes.

Open-partial setting (DANCE, Saito et al. 2020) on the digit domains. Digits ``0..shared-1``
are *shared*, the next ``source_private`` only in the source, the rest *unknown* (only in the
target)::

    default: shared 0-5   source-private 6-7   unknown 8-9      K = 8 source classes

- Source: its labelled train part, shared + source-private digits, labels ``0..K-1``.
- Target adaptation stream: the target's *train* part restricted to shared + unknown digits,
  labels dropped. The target's labels pick which images enter the stream (that is what
  *defines* the setting: the unlabelled stream simply has no source-private digits); no method
  sees a label. The adapt part is not used because its labels are not kept.
- Target test: the target's test part, shared + unknown digits, unknown labelled ``K``.
- Source held-out: the source's test part, its K classes; never trained on, used only to set
  the second rejection threshold below.

All three methods train the same network (``dance_net``: DigitNet with the cosine-prototype
head) from the same random start for the same ``steps``: source-only on the source
cross-entropy alone, DANN adding its domain loss, DANCE adding neighbourhood clustering and
entropy separation from the first step, as in the paper (whose classifier is also new
when adaptation begins; fine-tuning a converged source model instead, we saw the unknown
digits already confidently assigned and entropy separation make them more so). DANN's
discriminator reads the L2-normalised features, the ones the cosine head reads (see
:func:`train_dann_cosine`).

Rejection, the same rule for every method (fixed before the comparison was rerun): an image is
*unknown* when the entropy of its prediction exceeds ``rho = log(K) / 2`` -- the rule and value
of the DANCE authors' evaluation code (their repository holds no baseline code, so it does not
show how they rejected for the baselines) -- so the methods differ only in training. The
claims use this rule. Reported beside it, as
facts: each model's own threshold set on held-out *source* images (the entropy that keeps
``keep`` = 95% of them; :func:`~introdl.adaptation.dance.source_threshold`), and the
threshold-free AUROC of entropy for known vs unknown target digits. No threshold sees a target
label. Hyper-parameters are the papers' defaults (DANCE: T = 0.05, m = 0.5, eta = 0.05,
momentum 0; DANN, Ganin et al. 2016, as the ``dann`` experiment now uses it: lambda = 1,
a 1024-1024-1 discriminator with dropout 0.5, learning rate annealed as
``lr / (1 + 10 p) ** 0.75``); nothing is chosen on target labels.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from introdl.adaptation.dance import (
    dance_net,
    default_rho,
    entropy,
    open_set_scores,
    rejection_auroc,
    source_threshold,
    train_dance,
)
from introdl.adaptation.dann import DomainAdversarialLoss, reversal_factor
from introdl.adaptation.domains import Domain
from introdl.adaptation.plots import accuracy_bars
from introdl.adaptation.protocol import fmt, load_pair, mean_std, pair_name, resolve_pairs
from introdl.adaptation.train import Budget, optimizer, train_source_only
from introdl.config import require
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite, predict
from introdl.experiment import Claim, Fact, experiment
from introdl.nn.adversarial import DomainDiscriminator
from introdl.report.plots import figure
from introdl.report.tables import markdown_table
from introdl.run import Run

METHODS = ("source-only", "dann", "dance")
SCORES = ("known_acc", "unknown_recall", "h_score", "closed_acc")  # at rho = log(K)/2
EXTRA = ("src_threshold", "src_known_acc", "src_unknown_recall", "src_h_score", "auroc")


@dataclass
class DanceConfig:
    source: str = ""  # source domain; empty (with target empty) = every offline pair
    target: str = ""  # target domain
    seeds: int = 3  # runs per pair (run.seed, run.seed + 1, ...)
    shared: int = 6  # digits 0..shared-1 are in both domains
    source_private: int = 2  # the next digits are in the source only; the rest are unknown
    steps: int = 300  # optimiser steps of each method, from the same random start
    batch_size: int = 64  # images per domain per step
    lr: float = 1e-3  # Adam's learning rate
    eta: float = 0.05  # DANCE's weight on L_nc + L_es (paper)
    margin: float = 0.5  # entropy-separation margin m (paper)
    temperature: float = 0.05  # cosine-head and neighbourhood temperature T (paper)
    momentum: float = 0.0  # memory-bank momentum (paper's config: 0, store the newest feature)
    dann_lam: float = 1.0  # DANN's final reversal factor (Ganin et al. 2016)
    dann_hidden: int = 1024  # width of DANN's discriminator's two hidden layers (paper)
    dann_dropout: float = 0.5  # dropout in DANN's discriminator (paper)
    dann_anneal: bool = True  # DANN's learning rate lr / (1 + 10 p) ** 0.75 (paper)
    keep: float = 0.95  # share of held-out source images the source-set threshold accepts
    methods: str = "source-only,dann,dance"  # which to train (the quick run skips DANN)

    def validate(self) -> None:
        for key in ("seeds", "steps", "batch_size", "dann_hidden"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        require(self, "shared", self.shared >= 2, "needs at least 2 shared digits")
        require(self, "source_private", 0 <= self.source_private <= 9 - self.shared,
                "shared + source_private must leave at least one unknown digit (of 10)")
        for key in ("lr", "temperature"):
            require(self, key, getattr(self, key) > 0, "must be positive")
        require(self, "momentum", 0 <= self.momentum < 1, "must be in [0, 1)")
        require(self, "dann_lam", self.dann_lam >= 0, "must be >= 0")
        require(self, "dann_dropout", 0 <= self.dann_dropout < 1, "must be in [0, 1)")
        require(self, "keep", 0 < self.keep < 1, "must be in (0, 1), e.g. 0.95")
        chosen = self.methods.split(",")
        require(self, "methods", set(chosen) <= set(METHODS) and len(set(chosen)) == len(chosen)
                and {"source-only", "dance"} <= set(chosen),
                f"a comma list of {', '.join(METHODS)} holding source-only and dance")


@dataclass(frozen=True)
class OpenPartial:
    """One pair in the open-partial setting; ``yt_test == K`` marks unknown digits."""

    xs: torch.Tensor  # source images, shared + source-private digits
    ys: torch.Tensor  # their labels 0..K-1
    xt: torch.Tensor  # unlabelled target stream, shared + unknown digits
    xt_test: torch.Tensor  # target test images, shared + unknown digits
    yt_test: torch.Tensor  # 0..shared-1, or K for unknown
    xs_val: torch.Tensor  # held-out source images (source test part), K classes
    classes: int  # K


def open_partial(src: Domain, tgt: Domain, shared: int = 6, source_private: int = 2
                 ) -> OpenPartial:
    """Cut a closed-set pair into the open-partial one (see the module docstring)."""
    k = shared + source_private
    keep_s = src.y_train < k
    keep_t = (tgt.y_train < shared) | (tgt.y_train >= k)  # labels select images, then dropped
    keep_test = (tgt.y_test < shared) | (tgt.y_test >= k)
    y_test = tgt.y_test[keep_test].clone()
    y_test[y_test >= k] = k
    return OpenPartial(src.x_train[keep_s], src.y_train[keep_s], tgt.x_train[keep_t],
                       tgt.x_test[keep_test], y_test, src.x_test[src.y_test < k], k)


def _key(pair: tuple[str, str]) -> str:
    return f"{pair[0]}_to_{pair[1]}".replace("-", "_")


def train_dann_cosine(model: torch.nn.Module, xs: torch.Tensor, ys: torch.Tensor,
                      xt: torch.Tensor, budget: Budget, seed: int, lam: float = 1.0,
                      hidden: int = 1024, dropout: float = 0.5, anneal: bool = True,
                      progress: bool = False) -> None:
    """DANN (:mod:`introdl.adaptation.dann`) with the discriminator on ``z / ||z||``.

    Departure from ``train_dann``: the cosine head reads only the direction of ``z``, so
    the discriminator does too. With the discriminator on raw ``z`` and this head, the
    source cross-entropy stayed near ``log K`` (the encoder defeats the discriminator by
    degrading the features, which the scale-free head cannot resist); aligning directions is
    the alignment the head sees. ``hidden``, ``dropout`` and ``anneal`` (the learning rate
    ``lr / (1 + 10 p) ** 0.75``) default to Ganin et al. 2016's values, as ``dann`` uses them.
    """
    g = torch.Generator().manual_seed(seed)
    adversary = DomainAdversarialLoss(DomainDiscriminator(model.feature_dim, hidden, dropout))
    opt = optimizer([*model.parameters(), *adversary.parameters()], budget)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (1 + 10 * s / budget.steps) ** -0.75 if anneal else 1.0)
    ce = torch.nn.CrossEntropyLoss()
    source = batches(xs, ys, batch_size=budget.batch_size, generator=g)
    target = batches(xt, batch_size=budget.batch_size, generator=g)
    model.train()
    with ProgressBar(budget.steps, desc="dann", enabled=progress) as bar:
        for step in range(budget.steps):
            (x_s, y_s), (x_t,) = next(source), next(target)
            adversary.reverse.lam = reversal_factor(step / budget.steps, lam)
            z_s, z_t = model.features(x_s), model.features(x_t)
            loss = ce(model.head(z_s), y_s) + adversary(F.normalize(z_s, dim=1),
                                                        F.normalize(z_t, dim=1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            check_finite(loss, step, "dann")
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * budget.batch_size)


def _train(method: str, start: torch.nn.Module, data: OpenPartial, cfg: DanceConfig, seed: int,
           progress: bool) -> torch.nn.Module:
    model = copy.deepcopy(start)
    budget = Budget(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr)
    if method == "source-only":
        train_source_only(model, data.xs, data.ys, budget, seed, progress, desc=method)
    elif method == "dann":
        train_dann_cosine(model, data.xs, data.ys, data.xt, budget, seed, cfg.dann_lam,
                          cfg.dann_hidden, cfg.dann_dropout, cfg.dann_anneal, progress)
    else:
        train_dance(model, data.xs, data.ys, data.xt, budget, seed, eta=cfg.eta,
                    margin=cfg.margin, momentum=cfg.momentum, progress=progress)
    return model


@experiment(
    name="dance", lecture=10,
    title="Category shift: DANCE's neighbourhood clustering and entropy separation vs DANN",
    claims=[
        Claim("under category shift DANCE beats source-only (target H-score, mean gain over "
              "pairs and seeds)", metric="dance_h_gain", expected=0.05, compare=">=",
              quick_expected=0.03),
        Claim("whole-domain alignment (DANN) does worse than source-only under category shift "
              "(source-only minus DANN H-score, mean over pairs)", metric="dann_h_loss",
              expected=0.0, compare=">", full_only=True),
        Claim("aligning whole domains pulls target digits onto the wrong source classes: DANN's "
              "accuracy on the shared digits (no rejection) is below source-only's (mean over "
              "pairs)", metric="dann_closed_loss", expected=0.0, compare=">", full_only=True),
        Claim("DANCE separates known from unknown target digits by entropy (histogram, rho "
              "marked) and has the best H-score (bars) (figures)"),
    ],
    facts=[
        Fact("source-only H-score, each model's threshold set on held-out source images "
             "(95% accepted; mean over pairs)", metric="source_only_src_h_score"),
        Fact("DANN H-score, source-set threshold (mean over pairs)", metric="dann_src_h_score"),
        Fact("DANCE H-score, source-set threshold (mean over pairs)", metric="dance_src_h_score"),
        Fact("source-only minus DANN H-score with source-set thresholds (mean over pairs)",
             metric="dann_h_loss_src"),
        Fact("source-only AUROC of entropy, known vs unknown target digits (threshold-free)",
             metric="source_only_auroc"),
        Fact("DANN AUROC of entropy, known vs unknown target digits", metric="dann_auroc"),
        Fact("DANCE AUROC of entropy, known vs unknown target digits", metric="dance_auroc"),
    ],
    quick={"seeds": 1, "source": "mnist5k", "target": "uci-digits", "steps": 150,
           "methods": "source-only,dance"},
)
def dance(cfg: DanceConfig, run: Run) -> dict[str, float]:
    pairs = resolve_pairs(cfg.source, cfg.target)
    k = cfg.shared + cfg.source_private
    rho = default_rho(k)
    run.print(f"shared digits 0-{cfg.shared - 1}, source-private {cfg.shared}-{k - 1}, unknown "
              f"{k}-9; K = {k}, rho = log(K)/2 = {rho:.3f}, margin {cfg.margin}; every method "
              f"rejects when H(p) > rho (claims) or above the entropy that accepts "
              f"{cfg.keep:.0%} of held-out source images (facts)")
    names = [pair_name(p) for p in pairs]
    methods = [m for m in METHODS if m in cfg.methods.split(",")]
    scores = {m: {n: {s: [] for s in SCORES + EXTRA} for n in names} for m in methods}
    hist: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for pair, name in zip(pairs, names, strict=True):
        data = open_partial(*load_pair(pair), cfg.shared, cfg.source_private)
        for i in range(cfg.seeds):
            seed = run.seed + i
            torch.manual_seed(seed)
            start = dance_net(k, cfg.temperature)  # one random start for all three methods
            for method in methods:
                model = _train(method, start, data, cfg, seed, run.progress)
                for s, v in _score(model, data, rho, cfg.keep).items():
                    scores[method][name][s].append(v)
                if i == 0 and pair == pairs[0]:
                    hist[method] = (entropy(predict(model, data.xt_test)), data.yt_test)
            run.print(f"{name} seed {seed} (simulated open-partial split of the digit domains): "
                      + ", ".join(f"{m} known/unknown/H " + "/".join(
                          f"{scores[m][name][s][-1]:.3f}" for s in SCORES[:3])
                          + f" (source-set threshold: H {scores[m][name]['src_h_score'][-1]:.3f})"
                          for m in methods))

    cols = ("known_acc", "unknown_recall", "h_score", "closed_acc", "src_threshold",
            "src_h_score", "auroc")
    rows = [[n, m, *(fmt(scores[m][n][s]) for s in cols)] for n in names for m in methods]
    table = markdown_table(["pair", "method", "known acc", "unknown recall", "H-score",
                            "closed-set acc (shared)", "source-set threshold",
                            "H-score (source-set threshold)", "AUROC (entropy)"], rows)
    run.print(table)
    run.save_text("table.md", "Digit domains split into shared / source-private / unknown "
                  "digits (an open-partial setting built from the real digit domains).\n"
                  f"Columns up to 'closed-set acc': rejection at rho = log(K)/2 = {rho:.3f}; "
                  f"then each model's threshold accepting {cfg.keep:.0%} of held-out source "
                  "images.\n\n" + table)
    h_mean = {m: {n: mean_std(scores[m][n]["h_score"])[0] for n in names} for m in methods}
    run.save_figure(accuracy_bars(h_mean, ylabel="target H-score"), "h_score.png")
    run.save_figure(_entropy_histograms(hist, rho, cfg.margin, k, names[0]), "entropy.png")

    metrics: dict[str, float] = {}
    for m in methods:
        for p, n in zip(pairs, names, strict=True):
            for s in SCORES + EXTRA:
                metrics[f"{m.replace('-', '_')}_{s}_{_key(p)}"] = mean_std(scores[m][n][s])[0]
        for s in ("src_h_score", "auroc"):
            metrics[f"{m.replace('-', '_')}_{s}"] = float(np.mean(
                [mean_std(scores[m][n][s])[0] for n in names]))

    def diff(a: str, b: str, s: str) -> list[float]:
        return [metrics[f"{a}_{s}_{_key(p)}"] - metrics[f"{b}_{s}_{_key(p)}"] for p in pairs]

    gain = diff("dance", "source_only", "h_score")
    metrics.update({"dance_h_gain": float(np.mean(gain)), "dance_h_gain_min": float(min(gain)),
                    "rho": rho})
    if "dann" in methods:
        loss = diff("source_only", "dann", "h_score")
        metrics.update({"dann_h_loss": float(np.mean(loss)), "dann_h_loss_min": float(min(loss)),
                        "dann_closed_loss": float(np.mean(diff("source_only", "dann",
                                                               "closed_acc"))),
                        "dann_h_loss_src": float(np.mean(diff("source_only", "dann",
                                                              "src_h_score")))})
    return metrics


def _score(model: torch.nn.Module, data: OpenPartial, rho: float, keep: float
           ) -> dict[str, float]:
    """Target test scores at ``rho`` and at the model's source-set threshold, and the AUROC."""
    logits = predict(model, data.xt_test)  # the target test set, scored once
    threshold = source_threshold(entropy(predict(model, data.xs_val)), keep)
    at_src = open_set_scores(logits, data.yt_test, threshold)
    return {**open_set_scores(logits, data.yt_test, rho), "src_threshold": threshold,
            "src_known_acc": at_src["known_acc"], "src_unknown_recall": at_src["unknown_recall"],
            "src_h_score": at_src["h_score"], "auroc": rejection_auroc(logits, data.yt_test)}


def _entropy_histograms(hist: dict[str, tuple[torch.Tensor, torch.Tensor]], rho: float,
                        margin: float, k: int, title: str):
    """Per method: entropy of target test predictions, known vs unknown digits, rho marked."""
    fig, axes = figure(len(hist), 1, size=(3.6, 3.0))
    bins = np.linspace(0, np.log(k), 31)
    for ax, (method, (h, y)) in zip(np.atleast_1d(axes), hist.items(), strict=True):
        ax.hist(h[y < k].numpy(), bins, alpha=0.6, label="known (shared) digits", density=True)
        ax.hist(h[y == k].numpy(), bins, alpha=0.6, label="unknown digits", density=True)
        ax.axvline(rho, color="k", linestyle="--", label=f"rho = log(K)/2 = {rho:.2f}")
        ax.axvspan(rho - margin, rho + margin, color="0.85", zorder=0, label="margin")
        ax.set_xlabel("entropy H(p) (nats)")
        ax.set_title(f"{method}: {title}", fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
