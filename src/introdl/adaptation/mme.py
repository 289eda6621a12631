"""MME: minimax entropy for semi-supervised domain adaptation (Saito et al., ICCV 2019).

The setting (shared with PAC): a labelled source ``(x_s, y_s)``, a *few* labelled target
images ``(x_l, y_l)`` (k per class, "k-shot"), and an unlabelled target pool ``x_u``.

The classifier is a cosine-similarity head with temperature ``T``: with L2-normalised
features ``f(x) / ||f(x)||`` and class prototypes ``w_c / ||w_c||``,

    g(z)_c = <w_c / ||w_c||, z / ||z||> / T                       (T = 0.05 in the paper)

One minimax game on top of the usual cross-entropy on both labelled sets::

    L_ce = CE(g(f(x_s)), y_s) + CE(g(f(x_l)), y_l)
    H    = -mean_i sum_c p_ic log p_ic,   p_i = softmax(g(f(x_u_i)))
    classifier g:  min  L_ce - lam * H     (prototypes move *towards* the target features:
                                            entropy up)
    encoder f:     min  L_ce + lam * H     (target features cluster around a prototype:
                                            entropy down)

Both are done with one backward pass by putting a gradient reversal layer between
``f`` and ``g`` on the unlabelled branch, ``lam = 0.1`` as in the paper. The paper's code
takes two optimiser steps per iteration (CE, then entropy); we take one on the summed
loss, as PAC's re-implementation of MME does.

The "S+T" baseline of both papers is the same network trained on ``L_ce`` alone
(:func:`train_s_plus_t`). No target label outside the k per class is ever used.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from introdl.adaptation.networks import CosineClassifier, cosine_net
from introdl.adaptation.networks import entropy as row_entropy
from introdl.adaptation.train import Budget, optimizer
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite
from introdl.errors import UsageError
from introdl.nn.adversarial import grad_reverse

__all__ = ["AdversarialEntropy", "CosineClassifier", "cosine_net", "entropy", "few_shot",
           "labelled_loss", "train_mme", "train_s_plus_t"]


def few_shot(x: torch.Tensor, y: torch.Tensor, shots: int, seed: int,
             classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """``shots`` labelled images per class, drawn with a seeded generator from ``(x, y)``.

    Pass a target's *train* part: that is the only place the few target labels may come
    from (its adaptation part has no labels, its test part is scored once).
    """
    g = torch.Generator().manual_seed(seed)
    picked = []
    for c in range(classes):
        idx = torch.nonzero(y == c).flatten()
        if len(idx) < shots:
            raise UsageError(f"class {c} has {len(idx)} labelled target images, fewer than "
                             f"shots={shots}; lower --set shots=...")
        picked.append(idx[torch.randperm(len(idx), generator=g)[:shots]])
    idx = torch.cat(picked)
    return x[idx], y[idx]


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean Shannon entropy ``-mean_i sum_c p_ic log p_ic`` of ``softmax(logits)`` (nats)."""
    return row_entropy(logits).mean()


class AdversarialEntropy(nn.Module):
    """MME's unlabelled loss ``-lam * H(softmax(g(R(z_u))))`` with ``R`` a gradient reversal.

    Minimising it, the classifier ``g`` *ascends* the entropy ``H`` (its gradient is that
    of ``-lam * H``) while the encoder below ``R`` gets the reversed gradient, that of
    ``+lam * H``: it *descends* the entropy.

    Args:
        classifier: ``g``, features -> logits.
        lam: weight ``lam`` of the entropy term (0.1 in the paper).

    Inputs: ``z_u`` ``(N, feature_dim)`` unlabelled target features. Output: a scalar.
    """

    def __init__(self, classifier: nn.Module, lam: float = 0.1) -> None:
        super().__init__()
        self.classifier = classifier
        self.lam = lam
        self.last_entropy = float("nan")

    def forward(self, z_u: torch.Tensor) -> torch.Tensor:
        h = entropy(self.classifier(grad_reverse(z_u, 1.0)))
        self.last_entropy = h.item()
        return -self.lam * h


def _labelled_streams(xs, ys, xl, yl, batch_size: int, g: torch.Generator):
    """Endless (source batch, labelled-target batch); the k-shot set is cycled in full
    batches of ``min(batch_size, len(x_l))``."""
    return (batches(xs, ys, batch_size=batch_size, generator=g),
            batches(xl, yl, batch_size=batch_size, generator=g))


def labelled_loss(model: nn.Module, x_s, y_s, x_l, y_l, augment=None,
                  g: torch.Generator | None = None) -> torch.Tensor:
    """``CE(g(f(x_s)), y_s) + CE(g(f(x_l)), y_l)``: the S+T objective every method keeps."""
    x = torch.cat([x_s, x_l])
    if augment is not None:
        x = augment(x, g)
    logits = model(x)
    return F.cross_entropy(logits[:len(x_s)], y_s) + F.cross_entropy(logits[len(x_s):], y_l)


def train_s_plus_t(model: nn.Module, xs, ys, xl, yl, budget: Budget, seed: int,
                   augment=None, progress: bool = False, desc: str = "S+T") -> list[float]:
    """The few-label baseline: labelled source + the k-shot target labels, nothing else."""
    g = torch.Generator().manual_seed(seed)
    source, labelled = _labelled_streams(xs, ys, xl, yl, budget.batch_size, g)
    opt = optimizer(model.parameters(), budget)
    model.train()
    losses = []
    with ProgressBar(budget.steps, desc=desc, enabled=progress) as bar:
        for step in range(budget.steps):
            (x_s, y_s), (x_l, y_l) = next(source), next(labelled)
            loss = labelled_loss(model, x_s, y_s, x_l, y_l, augment, g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            check_finite(loss, step, desc)
            losses.append(loss.item())
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * budget.batch_size)
    return losses


def train_mme(model: nn.Module, xs, ys, xl, yl, xu, budget: Budget, seed: int,
              lam: float = 0.1, augment=None, progress: bool = False,
              desc: str = "mme") -> list[float]:
    """MME on a :func:`cosine_net`: ``L_ce`` plus the minimax entropy on ``xu``; returns
    the target entropy per step (it should fall as the encoder wins the game)."""
    g = torch.Generator().manual_seed(seed)
    source, labelled = _labelled_streams(xs, ys, xl, yl, budget.batch_size, g)
    unlabelled = batches(xu, batch_size=budget.batch_size, generator=g)
    adversary = AdversarialEntropy(model.head, lam)
    opt = optimizer(model.parameters(), budget)
    model.train()
    entropies = []
    with ProgressBar(budget.steps, desc=desc, enabled=progress) as bar:
        for step in range(budget.steps):
            (x_s, y_s), (x_l, y_l), (x_u,) = next(source), next(labelled), next(unlabelled)
            if augment is not None:
                x_u = augment(x_u, g)
            loss = labelled_loss(model, x_s, y_s, x_l, y_l, augment, g) \
                + adversary(model.features(x_u))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            check_finite(loss, step, desc)
            entropies.append(adversary.last_entropy)
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * budget.batch_size)
    return entropies
