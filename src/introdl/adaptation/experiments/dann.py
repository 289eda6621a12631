"""DANN: aligning source and target features with a gradient reversal layer.

For each pair: the source-only network (floor), the same network trained on labelled
target data (ceiling), and DANN started from the source-only network and trained on
labelled source + unlabelled target (``adapt`` part) with the reversal factor ramped to
``lam``. Reported: target test accuracy, the share of the floor -> ceiling gap closed,
and the proxy A-distance of source-test vs target-test features before (source-only
network) and after alignment.

Hyper-parameters (one setting for every pair, fixed before any run, no target label):
Ganin et al. (2016)'s -- final reversal factor ``lam = 1`` on the ramp
``2 / (1 + exp(-10 p)) - 1``, learning-rate annealing ``lr / (1 + 10 p) ** 0.75``, a
1024-1024-1 discriminator with dropout 0.5. Where the paper has no value (it trains
from scratch with SGD; here DANN adapts the source-only network with Adam) the source
stage's own learning rate is reused, ``adapt_lr = lr = 1e-3``. Nothing was selected.
The ``compare_alignment`` loop here is shared with the ``adda`` experiment.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from introdl.adaptation.dann import train_dann
from introdl.adaptation.domains import Domain
from introdl.adaptation.metrics import gap_closed, proxy_a_distance
from introdl.adaptation.networks import clone
from introdl.adaptation.plots import accuracy_bars, tsne_panels
from introdl.adaptation.protocol import (
    fmt,
    load_pair,
    mean_std,
    pair_name,
    resolve_pairs,
    source_only,
    target_supervised,
)
from introdl.adaptation.train import Budget, accuracy, embed
from introdl.config import require
from introdl.experiment import Claim, experiment
from introdl.report.tables import markdown_table
from introdl.run import Run

Adapt = Callable[[torch.nn.Module, Domain, Domain, int],
                  tuple[torch.nn.Module, torch.nn.Module]]


@dataclass
class DANNConfig:
    source: str = ""  # source domain ("" with target "": every offline pair)
    target: str = ""  # target domain
    seeds: int = 3  # runs per pair (run.seed, run.seed + 1, ...), reported as mean ± std
    steps: int = 600  # source-only and ceiling training steps
    batch_size: int = 64  # images per domain per step
    lr: float = 1e-3  # Adam learning rate of source-only / ceiling training
    adapt_steps: int = 400  # DANN steps, starting from the source-only network
    adapt_lr: float = 1e-3  # Adam learning rate while adapting (= lr; the paper has none)
    anneal: bool = True  # the paper's lr annealing lr / (1 + 10 p) ** 0.75
    lam: float = 1.0  # final reversal factor lambda (ramped up from 0; the paper's)
    hidden: int = 1024  # discriminator width (the paper's 1024-1024-1)
    dropout: float = 0.5  # discriminator dropout (the paper's)
    tsne_points: int = 500  # points per domain in the t-SNE figure

    def validate(self) -> None:
        for key in ("seeds", "steps", "batch_size", "adapt_steps", "hidden", "tsne_points"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        for key in ("lr", "adapt_lr"):
            require(self, key, getattr(self, key) > 0, "must be positive")
        require(self, "lam", self.lam >= 0, "must be >= 0")
        require(self, "dropout", 0 <= self.dropout < 1, "must be in [0, 1)")


def pair_key(pair: tuple[str, str]) -> str:
    return f"{pair[0]}_to_{pair[1]}".replace("-", "_")


def _pad(m_src: torch.nn.Module, m_tgt: torch.nn.Module, src: Domain, tgt: Domain,
         seed: int) -> float:
    return proxy_a_distance(embed(m_src, src.x_test), embed(m_tgt, tgt.x_test), seed=seed)


def compare_alignment(cfg, run: Run, method: str, adapt: Adapt) -> dict[str, float]:
    """Floor, ceiling and ``method`` on every pair and seed; table, figures and metrics.

    ``adapt(source_model, src, tgt, seed)`` returns ``(target_model, source_model)``: the
    networks that embed and classify each domain after adaptation (the same one for
    DANN; ADDA's ``M_t`` and its fixed ``M_s``). It may use only ``src``'s labelled train
    part and ``tgt.x_adapt``. ``cfg`` has the DANNConfig's
    shared fields (source, target, seeds, steps, batch_size, lr, tsne_points).
    """
    pairs = resolve_pairs(cfg.source, cfg.target)
    budget = Budget(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr)
    seeds = [run.seed + i for i in range(cfg.seeds)]
    floors: dict[tuple[str, int], torch.nn.Module] = {}  # a source's model serves its pairs
    ceilings: dict[tuple[str, int], float] = {}
    res: dict[str, dict[str, list[float]]] = {}
    panels = []
    for pair in pairs:
        src, tgt = load_pair(pair)
        r = res[pair_name(pair)] = {k: [] for k in ("so", "ceil", "m", "src_m", "pad0", "pad1")}
        for seed in seeds:
            if (src.name, seed) not in floors:
                floors[src.name, seed] = source_only(src, budget, seed, run.progress)
            if (tgt.name, seed) not in ceilings:
                ceilings[tgt.name, seed] = target_supervised(tgt, budget, seed, run.progress)
            floor = floors[src.name, seed]
            adapted, adapted_src = adapt(clone(floor), src, tgt, seed)
            r["so"].append(accuracy(floor, tgt.x_test, tgt.y_test))
            r["ceil"].append(ceilings[tgt.name, seed])
            r["m"].append(accuracy(adapted, tgt.x_test, tgt.y_test))
            r["src_m"].append(accuracy(adapted_src, src.x_test, src.y_test))
            r["pad0"].append(_pad(floor, floor, src, tgt, seed))
            r["pad1"].append(_pad(adapted_src, adapted, src, tgt, seed))
            run.print(f"{pair_name(pair)} seed {seed}: source-only {r['so'][-1]:.3f}  "
                      f"{method} {r['m'][-1]:.3f}  ceiling {r['ceil'][-1]:.3f}  "
                      f"PAD {r['pad0'][-1]:.2f} -> {r['pad1'][-1]:.2f}")
            if not panels:  # t-SNE of the first pair's first seed
                for title, ms, mt in (("source-only", floor, floor),
                                      (method, adapted_src, adapted)):
                    panels.append((title, embed(ms, src.x_test), src.y_test,
                                   embed(mt, tgt.x_test), tgt.y_test))
    return _report(res, pairs, method, panels, cfg, run)


def _report(res, pairs, method, panels, cfg, run: Run) -> dict[str, float]:
    metrics: dict[str, float] = {}
    rows, gains, gaps, pad_drops = [], [], [], []
    for pair in pairs:
        r, k = res[pair_name(pair)], pair_key(pair)
        so, ceil, m = (mean_std(r[x])[0] for x in ("so", "ceil", "m"))
        gain = m - so
        gap = gap_closed(m, so, ceil)
        pad0, pad1 = mean_std(r["pad0"])[0], mean_std(r["pad1"])[0]
        gains.append(gain)
        gaps.append(gap)
        pad_drops.append(pad0 - pad1)
        metrics.update({f"source_only_acc_{k}": so, f"ceiling_acc_{k}": ceil,
                        f"{method}_acc_{k}": m, f"{method}_std_{k}": mean_std(r["m"])[1],
                        f"{method}_source_acc_{k}": mean_std(r["src_m"])[0],
                        f"gain_{k}": gain, f"gap_closed_{k}": gap,
                        f"pad_before_{k}": pad0, f"pad_after_{k}": pad1})
        rows.append([pair_name(pair), fmt(r["so"]), fmt(r["m"]), fmt(r["ceil"]),
                     f"{gain:+.3f}", "n/a" if math.isnan(gap) else f"{gap:.0%}",
                     f"{fmt(r['pad0'])} -> {fmt(r['pad1'])}",
                     fmt(r["src_m"])])
    # a pair whose ceiling is not above its floor has no gap to close (gap_closed is nan):
    # mean_gap_closed averages the others, and the note says how many
    with_gap = [g for g in gaps if not math.isnan(g)]
    metrics.update({"min_gain_over_source_only": min(gains),
                    "mean_gap_closed": float(torch.tensor(gaps).nanmean()),
                    "min_pad_drop": min(pad_drops)})
    table = markdown_table(
        ["pair", "source-only", method, "target-supervised", "gain", "gap closed",
         "proxy A-distance before -> after", f"{method} on source test"], rows)
    note = (f"\nTarget test accuracy, mean ± std over {cfg.seeds} seed(s). No target label is "
            "used to train, stop or choose hyper-parameters; the target-supervised column is "
            "the ceiling (labelled target train part). Mean gap closed "
            f"{metrics['mean_gap_closed']:.0%} over {len(with_gap)} of {len(gaps)} pair(s)"
            + ("" if len(with_gap) == len(gaps) else
               " (the others have no gap: ceiling not above source-only)") + ".\n")
    run.print(table + note)
    run.save_text("table.md", table + note)
    names = [pair_name(p) for p in pairs]
    bars = {"source-only": {n: mean_std(res[n]["so"])[0] for n in names},
            method: {n: mean_std(res[n]["m"])[0] for n in names}}
    ceil = {n: mean_std(res[n]["ceil"])[0] for n in names}
    run.save_figure(accuracy_bars(bars, ceil), "accuracy.png")
    run.save_figure(tsne_panels(panels, seed=run.seed, per_domain=cfg.tsne_points), "tsne.png")
    return metrics


@experiment(
    name="dann", lecture=10,
    title="DANN: a gradient reversal layer aligns source and target features",
    claims=[
        Claim("target accuracy rises over source-only on every pair, without any target "
              "label (smallest per-pair gain of the mean over seeds)",
              metric="min_gain_over_source_only", expected=0.02, compare=">=",
              quick_expected=0.02),
        Claim("after alignment a domain classifier on the features is nearer chance: the "
              "proxy A-distance falls on every pair (not seen here: a linear probe still "
              "separates the domains, docs/lecture10a.md)", metric="min_pad_drop",
              expected=0.0, compare=">", full_only=True),
        Claim("t-SNE after alignment: domains mixed, classes still separated (figure)"),
    ],
    quick={"source": "mnist5k", "target": "mnist-m", "seeds": 1, "steps": 300,
           "adapt_steps": 200, "tsne_points": 300},
)
def dann(cfg: DANNConfig, run: Run) -> dict[str, float]:
    def adapt(model, src: Domain, tgt: Domain, seed: int):
        train_dann(model, src.x_train, src.y_train, tgt.x_adapt,
                   Budget(steps=cfg.adapt_steps, batch_size=cfg.batch_size, lr=cfg.adapt_lr),
                   seed, lam=cfg.lam, progress=run.progress, hidden=cfg.hidden,
                   dropout=cfg.dropout, anneal=cfg.anneal)
        return model, model

    return compare_alignment(cfg, run, "dann", adapt)
