"""More data or better labels? A grading CNN's kappa vs training-set size and vs label quality.

The lecture's two panels (diabetic-retinopathy grading): a model's agreement with the
reference grade plateaus as more images labelled by single graders are added, while
better labels (several graders, adjudication) keep improving it. Here, on simulated data:

- images: :mod:`introdl.health.fundus` (real retina texture, drawn lesions; the true
  grade 0-4 is a stated function of the lesions);
- labels: :mod:`introdl.health.graders` (biased, noisy simulated graders; about 60%
  pairwise exact agreement) under four schemes: one grader (grader 1, an over-caller)
  labels every image, majority of 3, majority of 5, Delphi adjudication of the 5;
- model: a small CNN (three convolutions, global average pooling), trained for a fixed
  number of steps on the first ``N`` images of one pool (nested sets) with the scheme's
  labels, ``repeats`` times (initialisation and batch order from ``seed + r``);
- score: Cohen's quadratic-weighted kappa against the TRUE grades of a held-out test set,
  which is scored once per model and used for nothing else (no early stopping, no
  selection: the budget is fixed). Baseline, same run: predicting the most common label.

Panel 1: kappa vs ``N`` with single-grader labels. Panel 2: kappa vs scheme at ``fixed_n``
(the second-largest size unless set), which the claims compare with the last doubling of
``N`` on panel 1 (``fixed_n -> 2 fixed_n``). What plateaus is the single grader's bias,
which more images cannot average away; several graders cancel it. Past that, this
simulation has no more to gain: Delphi here revises toward the median of grades (no new
evidence), so its labels are as accurate as majority-5's.

``--set data=retinamnist`` reads the real MedMNIST RetinaMNIST file (DeepDRiD fundus
photographs, 28x28, grades 0-4) instead: its labels are taken as the truth, each image is
given a latent severity ``grade + U(0, 1)``, and the graders are simulated on that (so the
labels, not the images, are simulated); sizes above its 1080 training images are dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from introdl.config import require
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite, predict
from introdl.experiment import Claim, experiment
from introdl.health.agreement import pairwise_agreement, quadratic_kappa
from introdl.health.fundus import GRADES, FundusParams, simulate
from introdl.health.graders import SCHEMES, delphi, label, make_panel
from introdl.report.plots import figure
from introdl.run import Run

DATA = ("simulated", "retinamnist")


@dataclass
class LabelQualityConfig:
    data: str = "simulated"  # simulated | retinamnist (real MedMNIST file, simulated graders)
    sizes: tuple[int, ...] = (250, 500, 1000, 2000, 4000)  # training-set sizes (panel 1)
    fixed_n: int = 0  # panel 2's size; 0 = the second-largest of sizes
    schemes: tuple[str, ...] = SCHEMES  # labelling schemes of panel 2 (first: single)
    test: int = 2000  # simulated test images (true grades)
    image_size: int = 48  # simulated image side (pixels)
    graders: int = 5  # panel size
    noise: float = 0.4  # graders' perception noise (sd on the 0-5 severity scale)
    bias: float = 0.3  # graders' biases run from +bias (grader 1, the single grader) to -bias
    delphi_rounds: int = 3  # Delphi: most revision rounds
    delphi_weight: float = 0.5  # Delphi: pull toward the panel median per round
    repeats: int = 2  # training runs per point (seed, seed + 1, ...), averaged
    steps: int = 800  # optimiser steps per model (the same for every N)
    batch_size: int = 64
    lr: float = 3e-3  # Adam
    weight_decay: float = 5e-4
    width: int = 16  # channels of the first convolution

    def validate(self) -> None:
        require(self, "data", self.data in DATA, f"use one of {', '.join(DATA)}")
        require(self, "sizes", len(self.sizes) >= 2 and min(self.sizes) >= 20,
                "give two or more sizes of at least 20, e.g. --set sizes=250,500,1000")
        require(self, "fixed_n", self.fixed_n == 0 or self.fixed_n in self.sizes,
                "must be 0 (the second-largest size) or one of sizes")
        require(self, "schemes", len(self.schemes) >= 2 and self.schemes[0] == "single"
                and set(self.schemes) <= set(SCHEMES),
                f"start with single, then any of {', '.join(SCHEMES[1:])}")
        require(self, "graders", self.graders >= 5 or not any(
            s == "majority-5" for s in self.schemes), "majority-5 needs at least 5 graders")
        require(self, "graders", self.graders >= 3, "must be at least 3")
        require(self, "test", self.test >= 50, "must be at least 50")
        require(self, "image_size", 24 <= self.image_size <= 128, "must be in 24..128")
        require(self, "noise", self.noise >= 0, "must be >= 0")
        require(self, "bias", self.bias >= 0, "must be >= 0")
        require(self, "delphi_rounds", self.delphi_rounds >= 0, "must be >= 0")
        require(self, "delphi_weight", 0 <= self.delphi_weight <= 1, "must be in [0, 1]")
        require(self, "repeats", self.repeats >= 1, "must be at least 1")
        require(self, "steps", self.steps >= 1, "must be at least 1")
        require(self, "width", self.width >= 2, "must be at least 2")


def grading_cnn(width: int = 16) -> nn.Module:
    """Three convolutions (two with stride 2), global average pooling, 5 grade logits."""
    w = width

    def block(cin, cout, stride, k=3):
        return [nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2 if k % 2 else 1),
                nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(*block(3, w, 2, k=4), *block(w, 2 * w, 2), *block(2 * w, 2 * w, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * w, GRADES))


@dataclass
class _Data:
    x_pool: np.ndarray  # training pool, normalised
    s_pool: np.ndarray  # latent severity of the pool
    y_pool: np.ndarray  # its true grade (never used to train)
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    mean: np.ndarray  # the per-channel normalisation (to show the images)
    std: np.ndarray


def _load(cfg: LabelQualityConfig, seed: int) -> _Data:
    if cfg.data == "retinamnist":
        from introdl.health.medmnist import load_medmnist

        m = load_medmnist("retinamnist")  # one-line DataUnavailable when absent

        def imgs(x):
            return x.astype(np.float32).transpose(0, 3, 1, 2) / 255.0

        rng = np.random.default_rng(seed)
        x_pool, y_pool = imgs(m.x_train), m.y_train
        x_test, y_test = imgs(m.x_test), m.y_test
        s_pool = y_pool + rng.uniform(size=len(y_pool))  # a latent severity inside the grade
        source = "real RetinaMNIST images and grades; simulated graders"
    else:
        params = FundusParams(size=cfg.image_size)
        pool = simulate(max(cfg.sizes), np.random.default_rng([seed, 1]), params)
        test = simulate(cfg.test, np.random.default_rng([seed, 2]), params)
        x_pool, s_pool, y_pool = pool.images, pool.severity, pool.grade
        x_test, y_test = test.images, test.grade
        source = "simulated fundus images, simulated graders"
    mu = x_pool.mean(axis=(0, 2, 3), keepdims=True)
    sd = x_pool.std(axis=(0, 2, 3), keepdims=True) + 1e-6
    return _Data((x_pool - mu) / sd, s_pool, y_pool, (x_test - mu) / sd, y_test, source, mu, sd)


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: LabelQualityConfig,
          seed: int, progress: bool = False, desc: str = "train",
          device: torch.device | str = "cpu") -> list[float]:
    """Cross-entropy for ``cfg.steps`` Adam steps, the learning rate cosine-annealed to 0
    (so the final weights, which are the ones scored, do not hinge on the last batches)."""
    g = torch.Generator().manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.steps)
    stream = batches(x, y, batch_size=min(cfg.batch_size, len(y)), generator=g)
    losses = []
    with ProgressBar(cfg.steps, desc=desc, enabled=progress) as bar:
        for step in range(cfg.steps):
            xb, yb = (t.to(device) for t in next(stream))
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            check_finite(loss, step, desc)
            losses.append(loss.item())
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * len(yb))
    return losses


def _train_and_score(cfg, x, y, x_test, y_test, seed, run: Run, desc: str) -> float:
    torch.manual_seed(seed)
    model = grading_cnn(cfg.width)
    train(model, torch.from_numpy(x), torch.from_numpy(y), cfg, seed, run.progress, desc,
          run.device)
    pred = predict(model, torch.from_numpy(x_test), device=run.device).argmax(1).numpy()
    return quadratic_kappa(pred, y_test)


@experiment(
    name="label-quality", lecture=12,
    title="More data vs better labels: a grading CNN's kappa vs N and vs label quality "
          "(simulated fundus images and graders)",
    claims=[
        Claim("simulated retina graders agree on the exact grade about 60% of the time "
              "(mean over pairs)", metric="grader_pairwise_agreement", expected=0.60,
              tol=0.05),
        Claim("a CNN trained on single-grader labels beats predicting the most common grade "
              "(quadratic kappa vs the true grade, simulated data)",
              metric="model_minus_baseline_kappa", expected=0.5, compare=">"),
        Claim("better labels raise the model's kappa at fixed N: Delphi-adjudicated labels "
              "beat single-grader labels (simulated)", metric="label_gain_kappa",
              expected=0.0, compare=">"),
        Claim("the size curve flattens: doubling N with single-grader labels gains less than "
              "Delphi labels at the same N", metric="label_gain_minus_doubling_gain",
              expected=0.0, compare=">"),
        Claim("kappa vs N (single grader) and kappa vs label scheme at fixed N (figure)"),
    ],
    quick={"sizes": (1000, 2000, 4000), "test": 1000, "schemes": ("single", "delphi"),
           "repeats": 1, "steps": 600, "width": 12, "lr": 4e-3},
)
def label_quality(cfg: LabelQualityConfig, run: Run) -> dict[str, float]:
    start = time.perf_counter()
    d = _load(cfg, run.seed)
    sizes = sorted(n for n in set(cfg.sizes) if n <= len(d.s_pool))
    if len(sizes) < 2:
        from introdl.errors import UsageError

        raise UsageError(f"--set sizes: {cfg.data} has {len(d.s_pool)} training images; "
                         "give two or more sizes up to that")
    fixed_n = cfg.fixed_n if cfg.fixed_n in sizes else sizes[-2]
    run.print(f"data: {d.source}; training pool {len(d.s_pool)}, test {len(d.y_test)} "
              "(scored only, true grades)")

    # graders and labels (every scheme labels the whole pool once: nested subsets)
    panel = make_panel(cfg.graders, cfg.noise, cfg.bias, np.random.default_rng([run.seed, 3]))
    dr = delphi(panel, d.s_pool, np.random.default_rng([run.seed, 4]), cfg.delphi_rounds,
                cfg.delphi_weight)
    reads = dr.first  # every grader's independent read of every pool image (Delphi round 0)
    exact, kappa_pairs = pairwise_agreement(reads)
    rng = np.random.default_rng([run.seed, 5])
    labels = {s: dr.label if s == "delphi" else label(s, panel, d.s_pool, rng)
              for s in cfg.schemes}
    metrics: dict[str, float] = {
        "grader_pairwise_agreement": exact, "grader_pairwise_kappa": kappa_pairs,
        "delphi_consensus_rate": float(dr.consensus.mean()),
        "delphi_mean_rounds": float(dr.rounds.mean()),
    }
    label_rows = []
    for s in cfg.schemes:
        acc = float(np.mean(labels[s] == d.y_pool))
        kap = quadratic_kappa(labels[s], d.y_pool)
        metrics[f"label_acc_{_key(s)}"], metrics[f"label_kappa_{_key(s)}"] = acc, kap
        label_rows.append(f"| {s} | {acc:.3f} | {kap:.3f} |")
    run.print(f"graders: pairwise exact agreement {exact:.3f}, pairwise kappa {kappa_pairs:.3f}; "
              f"Delphi consensus {metrics['delphi_consensus_rate']:.2f} after "
              f"{metrics['delphi_mean_rounds']:.2f} rounds on average")

    def score(scheme: str, n: int) -> float:
        ks = [_train_and_score(cfg, d.x_pool[:n], labels[scheme][:n], d.x_test, d.y_test,
                               run.seed + r, run, f"{scheme} N={n}")
              for r in range(cfg.repeats)]
        k = float(np.mean(ks))
        run.print(f"{scheme:>10} labels, N={n:5d}: test kappa {k:.3f}"
                  + (f" (runs {', '.join(f'{v:.3f}' for v in ks)})" if len(ks) > 1 else ""))
        return k

    by_n = {n: score("single", n) for n in sizes}
    by_scheme = {s: (by_n[fixed_n] if s == "single" else score(s, fixed_n))
                 for s in cfg.schemes}
    for n, k in by_n.items():
        metrics[f"kappa_single_n{n}"] = k
    for s, k in by_scheme.items():
        metrics[f"kappa_{_key(s)}_fixed_n"] = k
    common = np.bincount(labels["single"][:sizes[-1]], minlength=GRADES).argmax()
    baseline = quadratic_kappa(np.full(len(d.y_test), common), d.y_test)
    best = "delphi" if "delphi" in by_scheme else cfg.schemes[-1]
    i = sizes.index(fixed_n)
    doubling = by_n[sizes[i + 1]] - by_n[fixed_n] if i + 1 < len(sizes) else float("nan")
    metrics.update({
        "baseline_majority_grade_kappa": baseline,
        "model_minus_baseline_kappa": by_n[sizes[-1]] - baseline,
        "fixed_n": float(fixed_n),
        "label_gain_kappa": by_scheme[best] - by_scheme["single"],
        "doubling_gain_kappa": doubling,
        "first_doubling_gain_kappa": by_n[sizes[1]] - by_n[sizes[0]],
        "label_gain_minus_doubling_gain": by_scheme[best] - by_scheme["single"] - doubling,
        "minutes": (time.perf_counter() - start) / 60,
    })

    table = "\n".join([
        f"Data: {d.source}. Test: {len(d.y_test)} images with true grades.",
        "", "| labels | label accuracy vs truth | label kappa vs truth |", "|---|---|---|",
        *label_rows, "",
        "| training images N (single-grader labels) | model kappa |", "|---|---|",
        *[f"| {n} | {k:.3f} |" for n, k in by_n.items()], "",
        f"| labels at N = {fixed_n} | model kappa |", "|---|---|",
        *[f"| {s} | {k:.3f} |" for s, k in by_scheme.items()], "",
        f"Graders' pairwise exact agreement {exact:.3f}; baseline (most common grade) kappa "
        f"{baseline:.3f}; gain from better labels ({best}) at N = {fixed_n}: "
        f"{metrics['label_gain_kappa']:+.3f}; gain from doubling N {fixed_n} -> "
        f"{sizes[min(i + 1, len(sizes) - 1)]}: {doubling:+.3f}; {cfg.repeats} training run(s) "
        "per point.",
    ])
    run.print(table)
    run.save_text("results.md", table + "\n")
    run.save_figure(_panels(by_n, by_scheme, fixed_n, metrics, baseline), "panels.png")
    run.save_figure(_examples(d.x_pool[:2000] * d.std + d.mean, d.y_pool, reads, dr.label),
                    "examples.png")
    return metrics


def _key(scheme: str) -> str:
    return scheme.replace("-", "")


def _panels(by_n, by_scheme, fixed_n, metrics, baseline):
    fig, (a, b) = figure(2, 1, size=(4.2, 3.4))
    ns = list(by_n)
    a.plot(ns, [by_n[n] for n in ns], marker="o", label="single-grader labels")
    if "delphi" in by_scheme:
        a.plot([fixed_n], [by_scheme["delphi"]], marker="*", markersize=12, linestyle="",
               color="C3", label=f"Delphi labels, N = {fixed_n}")
    a.set_xscale("log", base=2)
    a.set_xticks(ns, [str(n) for n in ns])
    a.set_xlabel("training images N")
    a.set_ylabel("quadratic kappa vs true grade (test)")
    a.set_title("more data: it plateaus", fontsize=10)
    a.grid(alpha=0.3)
    a.legend(fontsize=8, loc="lower right")
    schemes = list(by_scheme)
    b.plot(range(len(schemes)), [by_scheme[s] for s in schemes], marker="o", color="C3",
           label="model trained on these labels")
    b.plot(range(len(schemes)), [metrics[f"label_kappa_{_key(s)}"] for s in schemes],
           marker="s", linestyle="--", color="0.5", label="the labels themselves")
    b.set_xticks(range(len(schemes)), schemes, fontsize=8)
    b.set_xlabel(f"label quality (N = {fixed_n})")
    b.set_title("better labels: above the plateau", fontsize=10)
    b.grid(alpha=0.3)
    b.legend(fontsize=8, loc="lower right")
    lo = min(min(by_n.values()), min(by_scheme.values()),
             min(metrics[f"label_kappa_{_key(s)}"] for s in schemes))
    for ax in (a, b):
        ax.set_ylim(max(baseline, lo - 0.03), 1.0)
    fig.suptitle("simulated data: kappa of a grading CNN vs the true grade", fontsize=10)
    fig.tight_layout()
    return fig


def _examples(x, y, reads, adjudicated, k: int = 6):
    y, reads = y[:len(x)], reads[:len(x)]
    picks = [int(np.flatnonzero(y == g)[0]) for g in range(GRADES) if (y == g).any()]
    disputed = np.flatnonzero((reads != reads[:, :1]).any(axis=1) & (y >= 1))
    picks += [int(i) for i in disputed if int(i) not in picks][: max(0, k - len(picks))]
    fig, axes = figure(len(picks), 1, size=(1.9, 2.3), squeeze=False)
    for ax, i in zip(axes[0], picks, strict=True):
        ax.imshow(np.clip(x[i].transpose(1, 2, 0), 0, 1))
        ax.set_title(f"true {y[i]}\ngraders {' '.join(map(str, reads[i]))}\n"
                     f"Delphi {adjudicated[i]}", fontsize=8)
        ax.axis("off")
    fig.suptitle("simulated fundus images: true grade and the simulated graders' grades",
                 fontsize=9)
    fig.tight_layout()
    return fig
