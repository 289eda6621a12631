"""ADDA: adversarial discriminative domain adaptation (Tzeng et al., CVPR 2017).

Three stages, as the lecture tells it:

1. **Pretrain** a source encoder ``M_s`` and classifier ``C`` on labelled source data,
   ``min CE(C(M_s(x_s)), y_s)`` (the source-only model; not repeated here).
2. **Adapt.** A target encoder ``M_t`` starts as a copy of ``M_s``; ``M_s`` stays fixed.
   Alternate, every step:

   - (discriminator) fix both encoders, train ``D`` to tell the domains apart::

         L_D = BCE(D(M_s(x_s)), 1) + BCE(D(M_t(x_t)), 0)

   - (target encoder) fix ``D``, train ``M_t`` with the *inverted label* GAN loss, so
     target features look like source features to ``D``::

         L_M = BCE(D(M_t(x_t)), 1)

3. **Test** the target with ``C(M_t(x_t))``: the source's own classifier head, untouched.

Unlike DANN's single min-max loss through a gradient reversal, the two players have
separate losses and optimisers (GAN style: Adam with ``beta1 = 0.5``), and the source
encoder never moves, so source accuracy cannot be lost to alignment. No target label
is used anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from introdl.adaptation.networks import clone
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite
from introdl.nn.adversarial import DomainDiscriminator


@dataclass
class ADDAConfig:
    steps: int = 400  # adversarial steps (each: one D update, one M_t update)
    batch_size: int = 64  # images per domain per step
    lr_discriminator: float = 2e-4  # Adam lr of D (the paper's GAN setting, beta1 = 0.5)
    lr_encoder: float = 2e-4  # Adam lr of M_t (the same)
    hidden: int = 500  # D's hidden width (the paper's 500-500-1 MLP)
    dropout: float = 0.0  # dropout in D's hidden layers


class DiscriminatorLoss(nn.Module):
    """``L_D = BCE(D(z_s), 1) + BCE(D(z_t), 0)``, each a mean over its batch; keeps D's accuracy.

    The features come in detached: this loss trains ``D`` only.
    """

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.bce = nn.BCEWithLogitsLoss()
        self.domain_acc = float("nan")

    def forward(self, z_s: torch.Tensor, z_t: torch.Tensor) -> torch.Tensor:
        ls, lt = self.discriminator(z_s.detach()), self.discriminator(z_t.detach())  # (N,)
        self.domain_acc = torch.cat([ls > 0, lt <= 0]).float().mean().item()
        return self.bce(ls, torch.ones_like(ls)) + self.bce(lt, torch.zeros_like(lt))


class InvertedLabelLoss(nn.Module):
    """``L_M = BCE(D(z_t), 1)``: the target encoder's GAN loss with the labels inverted.

    Minimising it makes target features score "source"; it has stronger gradients than
    maximising ``L_D`` when ``D`` is confident (Goodfellow et al.'s non-saturating loss).
    """

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.bce = nn.BCEWithLogitsLoss()

    def forward(self, z_t: torch.Tensor) -> torch.Tensor:
        lt = self.discriminator(z_t)  # (N,)
        return self.bce(lt, torch.ones_like(lt))


def discriminator_step(source_encoder: nn.Module, target_encoder: nn.Module,
                       loss_d: DiscriminatorLoss, opt_d: torch.optim.Optimizer,
                       x_s: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
    """One update of ``D``; neither encoder receives a gradient."""
    with torch.no_grad():
        z_s, z_t = source_encoder(x_s), target_encoder(x_t)
    loss = loss_d(z_s, z_t)
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return loss.detach()


def encoder_step(target_encoder: nn.Module, loss_m: InvertedLabelLoss,
                 opt_m: torch.optim.Optimizer, x_t: torch.Tensor) -> torch.Tensor:
    """One update of ``M_t`` (``opt_m`` holds only its parameters; ``D``'s stay put)."""
    loss = loss_m(target_encoder(x_t))
    opt_m.zero_grad(set_to_none=True)
    loss.backward()  # D's parameters get .grad here, but no optimiser steps them ...
    opt_m.step()
    loss_m.discriminator.zero_grad(set_to_none=True)  # ... and it is cleared at once
    return loss.detach()


def train_adda(source_model: nn.Module, xs: torch.Tensor, xt: torch.Tensor,
               cfg: ADDAConfig, seed: int, progress: bool = False, desc: str = "adda"
               ) -> nn.Module:
    """Stage 2 on a pretrained DigitNet ``source_model``; returns the adapted target model.

    The returned model is a copy whose encoder is ``M_t`` and whose head is the source's
    classifier ``C`` (frozen); ``source_model`` itself is not changed.
    """
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    target = clone(source_model)
    source_encoder = clone(source_model.encoder).eval()  # M_s: fixed (and no_grad in use)
    target.head.requires_grad_(False)
    discriminator = DomainDiscriminator(source_model.feature_dim, cfg.hidden, cfg.dropout)
    loss_d, loss_m = DiscriminatorLoss(discriminator), InvertedLabelLoss(discriminator)
    opt_d = torch.optim.Adam(discriminator.parameters(), cfg.lr_discriminator, betas=(0.5, 0.999))
    opt_m = torch.optim.Adam(target.encoder.parameters(), cfg.lr_encoder, betas=(0.5, 0.999))
    source = batches(xs, batch_size=cfg.batch_size, generator=g)
    stream = batches(xt, batch_size=cfg.batch_size, generator=g)
    target.train()
    with ProgressBar(cfg.steps, desc=desc, enabled=progress) as bar:
        for step in range(cfg.steps):
            (x_s,), (x_t,) = next(source), next(stream)
            ld = discriminator_step(source_encoder, target.encoder, loss_d, opt_d, x_s, x_t)
            lm = encoder_step(target.encoder, loss_m, opt_m, x_t)
            check_finite(ld + lm, step, desc)
            if bar.due():
                bar.update(step + 1, loss=lm.item(), samples=(step + 1) * cfg.batch_size)
    return target.eval()
