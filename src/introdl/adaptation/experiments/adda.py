"""ADDA: a target encoder trained, GAN style, until a domain discriminator cannot tell it apart.

For each pair: the source-only network (floor; it is ADDA's pretrained source encoder
and classifier), the target-supervised ceiling, and ADDA: a target encoder initialised
from the source encoder and trained against a discriminator on source-vs-target
features, the source classifier head kept as it is. Reported as in ``dann``: target
test accuracy, gap closed, proxy A-distance before/after, t-SNE and bars.

Hyper-parameters (one setting for every pair, never picked by target accuracy): the
paper's GAN setting -- Adam with ``beta1 = 0.5``, a 500-500-1 discriminator -- with the
learning rates in :class:`~introdl.adaptation.adda.ADDAConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

from introdl.adaptation.adda import ADDAConfig, train_adda
from introdl.adaptation.domains import Domain
from introdl.adaptation.experiments.dann import compare_alignment
from introdl.config import require
from introdl.experiment import Claim, experiment
from introdl.run import Run

_ADDA = ADDAConfig()


@dataclass
class ADDAExperimentConfig:
    source: str = ""  # source domain ("" with target "": every offline pair)
    target: str = ""  # target domain
    seeds: int = 3  # runs per pair (run.seed, run.seed + 1, ...), reported as mean ± std
    steps: int = 600  # source pretraining (= source-only) and ceiling training steps
    batch_size: int = 64  # images per domain per step
    lr: float = 1e-3  # Adam learning rate of source pretraining / ceiling
    adapt_steps: int = _ADDA.steps  # adversarial steps (one D and one M_t update each)
    lr_discriminator: float = _ADDA.lr_discriminator  # Adam lr of D (beta1 = 0.5)
    lr_encoder: float = _ADDA.lr_encoder  # Adam lr of the target encoder (beta1 = 0.5)
    hidden: int = _ADDA.hidden  # discriminator width
    dropout: float = _ADDA.dropout  # discriminator dropout
    tsne_points: int = 500  # points per domain in the t-SNE figure

    def validate(self) -> None:
        for key in ("seeds", "steps", "batch_size", "adapt_steps", "hidden", "tsne_points"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        for key in ("lr", "lr_discriminator", "lr_encoder"):
            require(self, key, getattr(self, key) > 0, "must be positive")
        require(self, "dropout", 0 <= self.dropout < 1, "must be in [0, 1)")


@experiment(
    name="adda", lecture=10,
    title="ADDA: a target encoder learns to fool a domain discriminator",
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
def adda(cfg: ADDAExperimentConfig, run: Run) -> dict[str, float]:
    adda_cfg = ADDAConfig(steps=cfg.adapt_steps, batch_size=cfg.batch_size,
                          lr_discriminator=cfg.lr_discriminator, lr_encoder=cfg.lr_encoder,
                          hidden=cfg.hidden, dropout=cfg.dropout)

    def adapt(model, src: Domain, tgt: Domain, seed: int):
        target = train_adda(model, src.x_train, tgt.x_adapt, adda_cfg, seed, run.progress)
        return target, model  # M_t (with the source head) for the target; M_s for the source

    return compare_alignment(cfg, run, "adda", adapt)
