"""The lecture's plain fixes for dataset bias, each measured against source-only on the same pairs.

Tricks (one module each): a stronger backbone (:mod:`~introdl.adaptation.resnet`),
per-domain batch norm (:mod:`~introdl.adaptation.adabn`), instance normalisation
(``DigitNet(norm="instance")``), source augmentation (:mod:`~introdl.adaptation.augment`)
and pseudo-labels (:mod:`~introdl.adaptation.pseudo_label`). Every network trains for the
same ``steps`` on the labelled source; AdaBN then re-estimates its BN statistics on the
target's unlabelled adaptation images, pseudo-labelling continues from source-only for
``rounds * round_steps`` steps on source + confident target predictions. The floor is
source-only (the lecture CNN), the ceiling the same CNN trained on labelled target data.
ResNet-18 has batch norm, so it is also scored with AdaBN ("ResNet-18 + AdaBN"); its step
costs ~6 lecture-CNN steps, so only the first ``resnet_seeds`` seeds train it.
No target label trains, stops or selects anything; hyper-parameters are fixed values
(see each module), the target test set is scored once per network.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from introdl.adaptation.adabn import adapt_batch_norm
from introdl.adaptation.augment import train_augmented
from introdl.adaptation.domains import Domain, check_domain
from introdl.adaptation.metrics import gap_closed
from introdl.adaptation.networks import DigitNet, clone
from introdl.adaptation.plots import accuracy_bars
from introdl.adaptation.protocol import (
    fmt,
    load_pair,
    mean_std,
    pair_name,
    resolve_pairs,
    source_only,
    target_supervised,
)
from introdl.adaptation.pseudo_label import PseudoLabelConfig, train_pseudo_label
from introdl.adaptation.train import Budget, accuracy
from introdl.config import require
from introdl.experiment import Claim, experiment
from introdl.report.tables import markdown_table
from introdl.run import Run

TRICKS = ("resnet18", "adabn", "instance", "augment", "pseudo")
# trick -> the rows it adds to the table (AdaBN brings its own no-re-estimation control)
ROWS = {"resnet18": ("resnet18",), "adabn": ("batch_norm", "adabn", "resnet18_adabn"),
        "instance": ("instance_norm",), "augment": ("augment",), "pseudo": ("pseudo_label",)}
LABELS = {"source_only": "source-only (lecture CNN)", "resnet18": "ResNet-18 (from scratch)",
          "resnet18_adabn": "ResNet-18 + AdaBN",
          "batch_norm": "batch norm, source stats", "adabn": "AdaBN (target stats)",
          "instance_norm": "instance norm", "augment": "source augmentation",
          "pseudo_label": "pseudo-labels (self-training)"}
SHORT = {"source_only": "source-only", "resnet18": "ResNet-18",
         "resnet18_adabn": "ResNet-18 + AdaBN", "batch_norm": "BN, source stats",
         "adabn": "AdaBN", "instance_norm": "instance norm", "augment": "augment",
         "pseudo_label": "pseudo-labels"}  # figure legend


@dataclass
class DaTricksConfig:
    source: str = ""  # source domain ("" with target "" = every offline pair)
    target: str = ""  # target domain, or a comma list of targets for one source
    seeds: int = 3  # runs per network (run.seed, run.seed + 1, ...): mean and spread
    steps: int = 200  # optimiser steps for every network on the source (and the ceiling)
    batch_size: int = 64  # images per step
    lr: float = 1e-3  # Adam's learning rate, every network
    resnet_seeds: int = 1  # seeds that also train ResNet-18 (a step costs ~6 lecture-CNN steps)
    tricks: str = "all"  # comma list from resnet18,adabn,instance,augment,pseudo, or "all"
    threshold: float = 0.9  # pseudo-label confidence threshold tau (fixed, not tuned)
    rounds: int = 3  # pseudo-label relabel-then-train rounds
    round_steps: int = 50  # steps per pseudo-label round (source + target batch each)

    def validate(self) -> None:
        for key in ("seeds", "resnet_seeds", "steps", "batch_size", "rounds", "round_steps"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        require(self, "lr", self.lr > 0, "must be positive")
        require(self, "threshold", 0 < self.threshold <= 1, "must be in (0, 1]")
        require(self, "tricks", bool(self.trick_list()) and
                all(t in TRICKS for t in self.trick_list()),
                f"use 'all' or a comma list from {','.join(TRICKS)}")
        targets = [t.strip() for t in self.target.split(",")] if self.target else []
        require(self, "target", len(targets) == len(set(targets)),
                "names a domain twice; list each target once")
        for name in (self.source, *targets):
            if name:
                check_domain(name)
        self.pairs()  # source/target combinations: one line, before any training

    def trick_list(self) -> list[str]:
        if self.tricks.strip() == "all":
            return list(TRICKS)
        return [t.strip() for t in self.tricks.split(",") if t.strip()]

    def pairs(self) -> list[tuple[str, str]]:
        targets = [t.strip() for t in self.target.split(",")] if self.target else [""]
        return [p for t in targets for p in resolve_pairs(self.source, t)]


def key(pair: tuple[str, str]) -> str:
    return f"{pair[0]}_to_{pair[1]}".replace("-", "_")


def train_source_nets(src: Domain, tricks: list[str], budget: Budget, seed: int,
                      progress: bool = False, resnet: bool = True) -> dict[str, torch.nn.Module]:
    """Every network that only sees the labelled source, each from the same seed."""
    nets = {"source_only": source_only(src, budget, seed, progress)}
    if "adabn" in tricks:
        nets["batch_norm"] = source_only(src, budget, seed, progress,
                                         make=lambda: DigitNet(norm="batch"), desc="batch-norm")
    if "instance" in tricks:
        nets["instance_norm"] = source_only(src, budget, seed, progress,
                                            make=lambda: DigitNet(norm="instance"),
                                            desc="instance-norm")
    if "augment" in tricks:
        torch.manual_seed(seed)
        nets["augment"] = DigitNet()
        train_augmented(nets["augment"], src.x_train, src.y_train, budget, seed,
                        progress=progress)
    if "resnet18" in tricks and resnet:
        nets["resnet18"] = source_only(src, budget, seed, progress,
                                       make=lambda: DigitNet(backbone="resnet18"),
                                       desc="resnet18")
    return nets


def adapted_nets(nets: dict[str, torch.nn.Module], src: Domain, tgt: Domain, budget: Budget,
                 seed: int, cfg: DaTricksConfig, progress: bool = False
                 ) -> tuple[dict[str, torch.nn.Module], int]:
    """The tricks that see the target's unlabelled ``x_adapt`` (and nothing else of it).

    Returns the networks and the number of pseudo-labels in the last round (0 if none).
    """
    out, selected = {}, 0
    if "batch_norm" in nets:
        out["adabn"] = adapt_batch_norm(clone(nets["batch_norm"]), tgt.x_adapt)
        if "resnet18" in nets:  # ResNet-18 has batch norm too
            out["resnet18_adabn"] = adapt_batch_norm(clone(nets["resnet18"]), tgt.x_adapt, 256)
    if "pseudo" in cfg.trick_list():
        model = clone(nets["source_only"])
        counts = train_pseudo_label(
            model, src.x_train, src.y_train, tgt.x_adapt, budget, seed,
            PseudoLabelConfig(cfg.rounds, cfg.threshold, cfg.round_steps), progress)
        out["pseudo_label"], selected = model, counts[-1]
    return out, selected


@experiment(
    name="da-tricks", lecture=10,
    title="Plain fixes for dataset bias: ResNet-18, AdaBN, instance norm, augmentation, "
          "pseudo-labels",
    claims=[
        Claim("each trick helps on some pairs: on every pair at least one trick beats "
              "source-only (smallest best gain over source-only, in accuracy)",
              metric="min_best_gain", expected=0.01, compare=">=", quick_expected=0.05),
        Claim("per-domain batch norm: re-estimating BN statistics on the unlabelled target "
              "(AdaBN) beats the same network with source statistics, on average over pairs",
              metric="adabn_over_batch_norm", expected=0.02, compare=">=",
              quick_expected=0.02),
        Claim("target accuracy per pair and trick, with the target-supervised ceiling (figure)"),
    ],
    quick={"source": "mnist5k", "target": "mnist-m", "seeds": 1, "steps": 150,
           "tricks": "adabn,instance,augment,pseudo", "round_steps": 40},
)
def da_tricks(cfg: DaTricksConfig, run: Run) -> dict[str, float]:
    pairs, tricks = cfg.pairs(), cfg.trick_list()
    budget = Budget(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr)
    rows = ["source_only"] + [r for t in TRICKS if t in tricks for r in ROWS[t]
                              if r != "resnet18_adabn" or "resnet18" in tricks]
    acc = {r: {p: [] for p in pairs} for r in rows}  # target test accuracy per seed
    src_acc = {r: {p: [] for p in pairs} for r in rows}  # in-domain (source test) accuracy
    ceiling = {p: [] for p in pairs}
    selected = {p: [] for p in pairs}
    for k in range(cfg.seeds):
        seed = run.seed + k
        by_source: dict[str, dict[str, torch.nn.Module]] = {}
        by_target: dict[str, float] = {}
        for pair in pairs:
            src, tgt = load_pair(pair)
            if pair[0] not in by_source:
                by_source[pair[0]] = train_source_nets(src, tricks, budget, seed, run.progress,
                                                       resnet=k < cfg.resnet_seeds)
            if pair[1] not in by_target:
                by_target[pair[1]] = target_supervised(tgt, budget, seed, run.progress)
            nets = dict(by_source[pair[0]])
            more, n_sel = adapted_nets(nets, src, tgt, budget, seed, cfg, run.progress)
            nets.update(more)
            for r in (r for r in rows if r in nets):  # ResNet-18: first resnet_seeds only
                acc[r][pair].append(accuracy(nets[r], tgt.x_test, tgt.y_test))
                own = nets[{"adabn": "batch_norm", "resnet18_adabn": "resnet18"}.get(r, r)]
                src_acc[r][pair].append(accuracy(own, src.x_test, src.y_test))
            ceiling[pair].append(by_target[pair[1]])
            selected[pair].append(n_sel)
            run.print(f"seed {seed} {pair_name(pair)}: " + ", ".join(
                f"{r} {acc[r][pair][-1]:.3f}" for r in rows if r in nets)
                + f"; ceiling {ceiling[pair][-1]:.3f}")

    return _report(run, cfg, pairs, rows, acc, src_acc, ceiling, selected)


def _report(run, cfg, pairs, rows, acc, src_acc, ceiling, selected) -> dict[str, float]:
    mean = {r: {p: mean_std(acc[r][p])[0] for p in pairs} for r in rows}
    ceil = {p: mean_std(ceiling[p])[0] for p in pairs}
    # each row against source-only and the ceiling over the same seeds (ResNet-18 rows run
    # only the first resnet_seeds of them)
    base = {r: {p: mean_std(acc["source_only"][p][:len(acc[r][p])])[0] for p in pairs}
            for r in rows}
    top = {r: {p: mean_std(ceiling[p][:len(acc[r][p])])[0] for p in pairs} for r in rows}
    metrics: dict[str, float] = {}
    table = []
    for p in pairs:
        so = mean["source_only"][p]
        metrics[f"source_only_acc_{key(p)}"] = so
        metrics[f"ceiling_acc_{key(p)}"] = ceil[p]
        for r in rows:
            gain = mean[r][p] - base[r][p]
            closed = gap_closed(mean[r][p], base[r][p], top[r][p])
            metrics[f"{r}_acc_{key(p)}"] = mean[r][p]
            if r != "source_only":
                metrics[f"{r}_gain_{key(p)}"] = gain
                metrics[f"{r}_gap_closed_{key(p)}"] = closed
            table.append([pair_name(p), LABELS[r], fmt(src_acc[r][p]), fmt(acc[r][p]),
                          "" if r == "source_only" else f"{gain:+.3f}",
                          "" if r == "source_only" else f"{100 * closed:.0f}%"])
        table.append([pair_name(p), "target-supervised (ceiling)", "", fmt(ceiling[p]), "", ""])
    tricks = [r for r in rows if r not in ("source_only", "batch_norm")]  # the fixes
    if tricks:
        best = {p: max(mean[r][p] - base[r][p] for r in tricks) for p in pairs}
        metrics["min_best_gain"] = min(best.values())
    for r in rows[1:]:
        metrics[f"mean_gain_{r}"] = mean_std([mean[r][p] - base[r][p] for p in pairs])[0]
    if "adabn" in rows:
        metrics["adabn_over_batch_norm"] = mean_std(
            [mean["adabn"][p] - mean["batch_norm"][p] for p in pairs])[0]
    if "pseudo_label" in rows:
        for p in pairs:
            metrics[f"pseudo_selected_{key(p)}"] = mean_std(selected[p])[0]

    text = markdown_table(["pair", "method", "source test acc", "target test acc",
                           "gain over source-only", "share of gap closed"], table)
    text += (f"\n{cfg.seeds} seed(s) from {run.seed}; {cfg.steps} steps of {cfg.batch_size} "
             f"per network; pseudo-labels: {cfg.rounds} rounds x {cfg.round_steps} steps, "
             f"tau = {cfg.threshold}")
    if "resnet18" in rows:
        text += (f"; ResNet-18 rows: first {min(cfg.resnet_seeds, cfg.seeds)} seed(s), their gain "
                 "and gap share against source-only and the ceiling over those seeds")
    if "pseudo_label" in rows:
        text += "; target images pseudo-labelled in the last round: " + ", ".join(
            f"{pair_name(p)} {metrics[f'pseudo_selected_{key(p)}']:.0f}" for p in pairs)
    text += "\n"
    run.save_text("table.md", text)
    run.print(text)
    bars = {SHORT[r]: {pair_name(p): mean[r][p] for p in pairs} for r in rows}
    run.save_figure(accuracy_bars(bars, {pair_name(p): ceil[p] for p in pairs}), "tricks.png")
    return metrics
