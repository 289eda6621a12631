"""DANN: domain-adversarial training (Ganin & Lempitsky, 2015; Ganin et al., JMLR 2016).

One network, three parts: encoder ``f``, label head ``g``, domain discriminator ``D``
behind a gradient reversal layer ``R``. One loss, minimised by all of them at once::

    L = CE(g(f(x_s)), y_s)  +  BCE(D(R([f(x_s); f(x_t)])), [1; 0])

The domain term is one BCE mean over the joined source + target batch; with equal batch
sizes that is ``(BCE(D(R(f(x_s))), 1) + BCE(D(R(f(x_t))), 0)) / 2``, half the sum of the
two domain losses, as common DANN implementations compute it.

``D`` descends the domain loss (it learns to tell source from target), while the
reversed gradient makes ``f`` *ascend* it (features the discriminator cannot tell
apart). The reversal factor ramps up as in the paper,
``lambda_p = lam * (2 / (1 + exp(-10 p)) - 1)`` with ``p`` the share of training done,
so the discriminator's noisy early signal does not wreck the young features.
No target label is used anywhere.

The ``dann`` experiment starts ``f`` and ``g`` from the source-only network and adapts
with the paper's values (``lam = 1``, ``anneal=True``, a 1024-1024-1 discriminator with
dropout 0.5) and the source stage's learning rate.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from introdl.adaptation.train import Budget, optimizer
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite
from introdl.nn.adversarial import DomainDiscriminator, GradientReversal


class DomainAdversarialLoss(nn.Module):
    """One BCE mean over the joined batch ``[z_s; z_t]`` (labels 1, 0), and D's accuracy.

    With equal batch sizes this is ``(BCE(D(R(z_s)), 1) + BCE(D(R(z_t)), 0)) / 2``.

    Args:
        discriminator: ``D``, features -> logit "source".
    """

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.reverse = GradientReversal()
        self.bce = nn.BCEWithLogitsLoss()
        self.domain_acc = float("nan")

    def forward(self, z_s: torch.Tensor, z_t: torch.Tensor) -> torch.Tensor:
        logits = self.discriminator(self.reverse(torch.cat([z_s, z_t])))  # (Ns + Nt,)
        d = torch.cat([torch.ones(len(z_s)), torch.zeros(len(z_t))]).to(logits.device)
        self.domain_acc = ((logits > 0).float() == d).float().mean().item()
        return self.bce(logits, d)


def reversal_factor(progress: float, lam: float = 1.0) -> float:
    """The paper's ramp ``lam * (2 / (1 + exp(-10 p)) - 1)``: 0 at the start, ``lam`` at the end."""
    return lam * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)


def train_dann(model: nn.Module, xs: torch.Tensor, ys: torch.Tensor, xt: torch.Tensor,
               budget: Budget, seed: int, lam: float = 1.0, progress: bool = False,
               desc: str = "dann", hidden: int = 256, dropout: float = 0.0,
               anneal: bool = False) -> list[float]:
    """Train ``model`` (a DigitNet) with DANN on labelled ``(xs, ys)`` and unlabelled ``xt``.

    ``model`` may come pretrained on the source (then this is the adaptation stage);
    ``hidden``/``dropout`` shape the discriminator; ``anneal`` decays the learning rate
    as the paper does, ``lr_p = lr / (1 + 10 p) ** 0.75``.
    """
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    adversary = DomainAdversarialLoss(DomainDiscriminator(model.feature_dim, hidden, dropout))
    opt = optimizer([*model.parameters(), *adversary.parameters()], budget)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (1 + 10 * s / budget.steps) ** -0.75 if anneal else 1.0)
    ce = nn.CrossEntropyLoss()
    source = batches(xs, ys, batch_size=budget.batch_size, generator=g)
    target = batches(xt, batch_size=budget.batch_size, generator=g)
    model.train()
    losses = []
    with ProgressBar(budget.steps, desc=desc, enabled=progress) as bar:
        for step in range(budget.steps):
            (x_s, y_s), (x_t,) = next(source), next(target)
            adversary.reverse.lam = reversal_factor(step / budget.steps, lam)
            z_s, z_t = model.features(x_s), model.features(x_t)
            loss = ce(model.head(z_s), y_s) + adversary(z_s, z_t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            check_finite(loss, step, desc)
            losses.append(loss.item())
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * budget.batch_size)
    return losses
