"""CyCADA: translate labelled source images into the target's look, then train on them.

For each pair and seed, all in one run and with one fixed budget per stage:

- source-only: the lecture CNN trained on labelled source for ``steps`` and then, like
  every method below, ``adapt_steps`` more (on the plain source images): the floor;
- target-supervised: the same CNN on labelled target train images, trained as long as
  the floor (``steps`` + ``adapt_steps``; the ceiling: a reference, never a method);
- feature-level: part A's DANN, started from the source-only network;
- pixel-level: a CycleGAN translator (small ResNet generators, the source -> target one
  with a noise input, PatchGAN discriminators, least-squares GAN, cycle loss) plus
  CyCADA's semantic-consistency loss with the fixed source-only classifier; the
  source-only network is then trained on the translated source images with their
  source labels;
- pixel + feature: DANN on translated source vs target.

The adaptation stages (DANN, pixel fine-tuning, pixel + feature) start from the
``steps``-trained source network with the same ``adapt_steps`` and learning rate, so no
method wins by training longer than the floor. No target label is used to
train, stop or select anything; the target test part is scored once per method.

Hyper-parameters, none chosen on target labels:
- translator: CyCADA's released digit setting (cycle weight 1, no identity loss, a
  3-layer PatchGAN; ``cycada_release/cyclegan/train_cycada.sh``), CycleGAN's Adam beta1
  0.5, CyCADA's semantic weight 1; a noise input to ``G_st`` (PixelDA's) because without
  it the generator painted one fixed background on every MNIST digit (with it, in the
  default run, it still did: the generator learnt to ignore the noise); a residual
  generator (it kept the source classifier's reading of the translated source digits).
  These were chosen by unsupervised and source-side checks only: the held-out accuracy
  of a domain classifier between translated source and unlabelled target images, and the
  source classifier's accuracy on translated *source* test images. Sizes, steps and the
  GAN learning rate (5e-4, above CycleGAN's 2e-4 for the short budget) fit a CPU budget;
- DANN: part A's setting, the paper's values (final reversal factor 1, learning-rate
  annealing, a 1024-1024-1 discriminator with dropout 0.5) at the source stage's
  learning rate, which every adaptation stage here shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from introdl.adaptation.cycada import (
    TranslatorConfig,
    domain_classifier_accuracy,
    train_translator,
)
from introdl.adaptation.dann import train_dann
from introdl.adaptation.domains import Domain
from introdl.adaptation.metrics import gap_closed
from introdl.adaptation.networks import clone
from introdl.adaptation.plots import accuracy_bars
from introdl.adaptation.protocol import (
    Pair,
    fmt,
    load_pair,
    mean_std,
    pair_name,
    resolve_pairs,
    source_only,
)
from introdl.adaptation.train import Budget, accuracy, train_source_only
from introdl.config import require
from introdl.experiment import Claim, Fact, experiment
from introdl.report.plots import figure
from introdl.report.tables import markdown_table
from introdl.run import Run

CYCADA_PAIRS: tuple[Pair, ...] = (("mnist5k", "mnist-m"), ("syndigits", "mnist5k"),
                                  ("uci-digits", "mnist5k"))  # the offline pairs
METHODS = ("source-only", "feature (DANN)", "pixel", "pixel + feature")


@dataclass
class CycadaConfig:
    source: str = ""  # with target: one pair ("" and "": CYCADA_PAIRS); svhn->mnist if fetched
    target: str = ""  # target domain
    seeds: int = 1  # runs per pair (run.seed, run.seed + 1, ...)
    steps: int = 300  # source-only and ceiling training steps
    batch_size: int = 64  # images per domain per classifier step
    lr: float = 1e-3  # Adam lr of source-only / ceiling
    adapt_steps: int = 200  # steps of DANN, pixel and pixel + feature (from source-only)
    adapt_lr: float = 1e-3  # Adam lr of those stages (= lr, as part A's DANN)
    lam: float = 1.0  # DANN's final reversal factor (part A's: the paper's)
    dann_hidden: int = 1024  # DANN discriminator width (the paper's 1024-1024-1)
    gan_steps: int = 300  # translator updates
    gan_batch: int = 16  # images per domain per translator update
    gan_lr: float = 5e-4  # Adam lr of generators and discriminators (beta1 0.5)
    width: int = 8  # generator's first-layer filters
    blocks: int = 2  # generator's residual blocks
    residual: bool = True  # generators predict a change of the pixels, starting at zero
    noise: int = 4  # noise channels of G_st's input (0: a deterministic generator)
    disc_layers: int = 3  # PatchGAN's stride-2 layers (CyCADA's digits: 3)
    lambda_cycle: float = 1.0  # cycle-consistency weight (CyCADA's digits: 1)
    lambda_identity: float = 0.0  # identity weight (CyCADA's digits: 0)
    lambda_semantic: float = 1.0  # semantic-consistency weight (0: plain CycleGAN)
    lambda_mode_seeking: float = 0.0  # MSGAN's weight: make G_st use its noise (0: off)
    c2st_steps: int = 150  # steps of the domain classifier that checks the translations

    def validate(self) -> None:
        for key in ("seeds", "steps", "batch_size", "adapt_steps", "gan_steps", "gan_batch",
                    "width", "blocks", "disc_layers", "dann_hidden", "c2st_steps"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        for key in ("lr", "adapt_lr", "gan_lr"):
            require(self, key, getattr(self, key) > 0, "must be positive")
        for key in ("lam", "lambda_cycle", "lambda_identity", "lambda_semantic",
                    "lambda_mode_seeking"):
            require(self, key, getattr(self, key) >= 0, "must be >= 0")
        require(self, "noise", self.noise >= 0, "must be >= 0 (0: no noise input)")
        require(self, "lambda_mode_seeking", self.lambda_mode_seeking == 0 or self.noise > 0,
                "needs a noise input: set noise to 1 or more")
        require(self, "disc_layers", self.disc_layers <= 4,
                "must be at most 4 (each halves the 32x32 image; 5 leaves a 1x1 map)")


def translator_config(cfg: CycadaConfig) -> TranslatorConfig:
    """The translator settings a :class:`CycadaConfig` asks for."""
    return TranslatorConfig(
        steps=cfg.gan_steps, batch_size=cfg.gan_batch, lr=cfg.gan_lr, width=cfg.width,
        blocks=cfg.blocks, residual=cfg.residual, noise=cfg.noise,
        disc_layers=cfg.disc_layers, lambda_cycle=cfg.lambda_cycle,
        lambda_identity=cfg.lambda_identity, lambda_semantic=cfg.lambda_semantic,
        lambda_mode_seeking=cfg.lambda_mode_seeking)


def _key(pair: Pair) -> str:
    return f"{pair[0]}_to_{pair[1]}".replace("-", "_")


def _ceiling(tgt: Domain, budget: Budget, adapt: Budget, seed: int, progress: bool) -> float:
    """Target test accuracy of the CNN trained on labelled target train images exactly as
    long as the floor: ``steps``, then ``adapt_steps`` more (a reference, never a method)."""
    model = source_only(tgt, budget, seed, progress, desc="target-supervised")
    train_source_only(model, tgt.x_train, tgt.y_train, adapt, seed, progress,
                      "target-supervised (continued)")
    return accuracy(model, tgt.x_test, tgt.y_test)


def _first_per_class(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.stack([x[(y == c).nonzero()[0, 0]] for c in range(10) if (y == c).any()])


def translation_grid(rows: list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]]):
    """Per pair three rows: source test images, ``G_st(x)`` and ``G_ts(G_st(x))``."""
    n = max(len(r[1]) for r in rows)
    fig, axes = figure(n, 3 * len(rows), size=(0.8, 0.85))
    axes = np.atleast_2d(axes)
    for i, (name, x, fake, rec) in enumerate(rows):
        for j, (label, imgs) in enumerate((("source", x), ("translated", fake),
                                            ("cycled back", rec))):
            r = 3 * i + j
            for c in range(n):
                ax = axes[r, c]
                if c < len(imgs):
                    ax.imshow(imgs[c].permute(1, 2, 0).clamp(0, 1).numpy(), vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
            axes[r, 0].set_ylabel(f"{name}\n{label}" if j == 0 else label, rotation=0,
                                  ha="right", va="center", fontsize=7)
    fig.tight_layout()
    return fig


@experiment(
    name="cycada", lecture=10,
    title="CyCADA: pixel-level adaptation by cycle-consistent, semantics-keeping translation",
    claims=[
        Claim("semantic consistency: translated source test images keep their digit (the "
              "source classifier's accuracy on them is within 0.05 of its accuracy on the "
              "originals; mean over the pairs)", metric="semantic_drop", expected=0.05,
              compare="<="),
        Claim("training on source images translated into the target's look beats "
              "source-only trained as long (mean target accuracy over the pairs run)",
              metric="pixel_gain_over_source_only", expected=0.02, compare=">=",
              full_only=True),
        Claim("pixel-level adaptation beats feature-level only (lecture: SVHN->MNIST "
              "76% -> 90.4%; here the mean over the pairs run)",
              metric="pixel_minus_feature", expected=0.0, compare=">", full_only=True),
        Claim("pixel + feature is at least as good as pixel alone (mean over the pairs, "
              "tolerance 0.02)", metric="pixel_feature_minus_pixel", expected=-0.02,
              compare=">=", full_only=True),
        Claim("translated source images take the target's look: a domain classifier tells "
              "them from unlabelled target images less well than the untranslated source "
              "(held-out accuracy, drop of at least 0.05; mean over the pairs)",
              metric="c2st_drop", expected=0.05, compare=">=", full_only=True),
        Claim("translated images keep their digit and take the target's look; cycling back "
              "returns the source image (figure)"),
    ],
    facts=[Fact("mean share of the source-only -> ceiling gap closed by pixel + feature",
                metric="mean_gap_closed_pixel_feature"),
           Fact("mean share of the source-only -> ceiling gap closed by pixel alone",
                metric="mean_gap_closed_pixel"),
           Fact("mean share of the source-only -> ceiling gap closed by DANN alone",
                metric="mean_gap_closed_feature")],
    quick={"source": "mnist5k", "target": "mnist-m", "steps": 80, "adapt_steps": 15,
           "gan_steps": 40, "gan_batch": 16, "c2st_steps": 5},
)
def cycada(cfg: CycadaConfig, run: Run) -> dict[str, float]:
    pairs = resolve_pairs(cfg.source, cfg.target, CYCADA_PAIRS)
    budget = Budget(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr)
    adapt = Budget(steps=cfg.adapt_steps, batch_size=cfg.batch_size, lr=cfg.adapt_lr)
    tcfg = translator_config(cfg)
    seeds = [run.seed + i for i in range(cfg.seeds)]
    floors: dict[tuple[str, int], torch.nn.Module] = {}
    ceilings: dict[tuple[str, int], float] = {}
    res: dict[str, dict[str, list[float]]] = {}
    grid = []
    for pair in pairs:
        src, tgt = load_pair(pair)
        keys = (*METHODS, "ceiling", "sem_agree", "src_acc", "c2st_source", "c2st_translated")
        r = res[pair_name(pair)] = {m: [] for m in keys}
        for seed in seeds:
            if (src.name, seed) not in floors:
                floors[src.name, seed] = source_only(src, budget, seed, run.progress)
            if (tgt.name, seed) not in ceilings:
                ceilings[tgt.name, seed] = _ceiling(tgt, budget, adapt, seed, run.progress)
            floor = floors[src.name, seed]
            plain = clone(floor)  # source-only with the same total steps as every method
            train_source_only(plain, src.x_train, src.y_train, adapt, seed, run.progress,
                              "source-only (continued)")
            dann = dict(lam=cfg.lam, progress=run.progress, hidden=cfg.dann_hidden, dropout=0.5,
                        anneal=True)
            feat = clone(floor)
            train_dann(feat, src.x_train, src.y_train, tgt.x_adapt, adapt, seed,
                       desc="feature (dann)", **dann)
            translator, _ = train_translator(
                src.x_train, tgt.x_adapt, clone(floor), tcfg, seed,
                run.checkpoint_dir / f"translator-{_key(pair)}-seed{seed}.pt", run.progress)
            xs_tr = translator.to_target(src.x_train)
            pixel = clone(floor)
            train_source_only(pixel, xs_tr, src.y_train, adapt, seed, run.progress, "pixel")
            both = clone(floor)
            train_dann(both, xs_tr, src.y_train, tgt.x_adapt, adapt, seed,
                       desc="pixel + feature", **dann)
            for name, model in zip(METHODS, (plain, feat, pixel, both), strict=True):
                r[name].append(accuracy(model, tgt.x_test, tgt.y_test))
            r["ceiling"].append(ceilings[tgt.name, seed])
            # does the source classifier still read the translated source test digits right?
            r["sem_agree"].append(accuracy(floor, translator.to_target(src.x_test), src.y_test))
            r["src_acc"].append(accuracy(floor, src.x_test, src.y_test))
            # did the translations take the target's look? (unlabelled images only)
            r["c2st_source"].append(domain_classifier_accuracy(
                src.x_train, tgt.x_adapt, seed, cfg.c2st_steps))
            r["c2st_translated"].append(domain_classifier_accuracy(
                xs_tr, tgt.x_adapt, seed, cfg.c2st_steps))
            run.print(f"{pair_name(pair)} seed {seed}: " + "  ".join(
                f"{m} {r[m][-1]:.3f}" for m in (*METHODS, "ceiling")))
            if seed == seeds[0]:
                x = _first_per_class(src.x_test, src.y_test)
                grid.append((pair_name(pair), x, *translator.cycle(x)))
    return _report(res, pairs, grid, cfg, run)


def _report(res, pairs, grid, cfg: CycadaConfig, run: Run) -> dict[str, float]:
    metrics: dict[str, float] = {}
    rows = []
    means: dict[str, list[float]] = {m: [] for m in METHODS}
    gaps: dict[str, list[float]] = {m: [] for m in METHODS[1:]}
    drops: list[float] = []
    c2st: list[float] = []
    for pair in pairs:
        r, k = res[pair_name(pair)], _key(pair)
        so, ceil = mean_std(r["source-only"])[0], mean_std(r["ceiling"])[0]
        row = [pair_name(pair)]
        for m in METHODS:
            acc = mean_std(r[m])[0]
            means[m].append(acc)
            slug = m.replace(" + ", "_").replace(" (DANN)", "").replace("-", "_")
            metrics[f"{slug}_acc_{k}"] = acc
            cell = fmt(r[m])
            if m != "source-only":
                gap = gap_closed(acc, so, ceil)
                gaps[m].append(gap)
                metrics[f"gap_closed_{slug}_{k}"] = gap
                cell += f" ({gap:.0%})"
            row.append(cell)
        metrics[f"ceiling_acc_{k}"] = ceil
        metrics[f"translated_source_read_right_{k}"] = mean_std(r["sem_agree"])[0]
        drops.append(mean_std(r["src_acc"])[0] - mean_std(r["sem_agree"])[0])
        c2s, c2t = mean_std(r["c2st_source"])[0], mean_std(r["c2st_translated"])[0]
        metrics[f"c2st_source_{k}"], metrics[f"c2st_translated_{k}"] = c2s, c2t
        c2st.append(c2s - c2t)
        rows.append([*row, fmt(r["ceiling"]), fmt(r["sem_agree"]),
                     f"{fmt(r['c2st_source'])} -> {fmt(r['c2st_translated'])}"])
    avg = {m: float(np.mean(v)) for m, v in means.items()}
    metrics.update({
        "mean_source_only": avg["source-only"], "mean_feature": avg["feature (DANN)"],
        "mean_pixel": avg["pixel"], "mean_pixel_feature": avg["pixel + feature"],
        "pixel_gain_over_source_only": avg["pixel"] - avg["source-only"],
        "pixel_minus_feature": avg["pixel"] - avg["feature (DANN)"],
        "pixel_feature_minus_pixel": avg["pixel + feature"] - avg["pixel"],
        "semantic_drop": float(np.mean(drops)),
        "c2st_drop": float(np.mean(c2st)),
        "mean_gap_closed_feature": float(np.nanmean(gaps["feature (DANN)"])),
        "mean_gap_closed_pixel": float(np.nanmean(gaps["pixel"])),
        "mean_gap_closed_pixel_feature": float(np.nanmean(gaps["pixel + feature"])),
    })
    mean_ceil = float(np.mean([mean_std(res[pair_name(p)]["ceiling"])[0] for p in pairs]))
    rows.append(["mean over pairs", *(f"{avg[m]:.3f}" for m in METHODS), f"{mean_ceil:.3f}",
                 "", ""])
    table = markdown_table(
        ["pair", *METHODS, "target-supervised (ceiling)",
         "source classifier on translated source test",
         "domain classifier: source -> translated vs target"], rows)
    note = (f"\nTarget test accuracy, mean ± std over {cfg.seeds} seed(s); in brackets the share "
            "of the source-only -> ceiling gap closed. syndigits and mnist-m are procedurally "
            "generated (rendered digits; MNIST blended into photos). No target label is used "
            "to train, stop or select; the ceiling is trained on labelled target train "
            "images, as a reference only. Last column: held-out accuracy of a small CNN telling "
            "source (then translated source) images from unlabelled target images (0.5: "
            "indistinguishable).\n")
    run.print(table + note)
    run.save_text("table.md", table + note)
    names = [pair_name(p) for p in pairs]
    bars = {m: {n: mean_std(res[n][m])[0] for n in names} for m in METHODS}
    ceil = {n: mean_std(res[n]["ceiling"])[0] for n in names}
    run.save_figure(accuracy_bars(bars, ceil), "accuracy.png")
    run.save_figure(translation_grid(grid), "translations.png")
    return metrics

