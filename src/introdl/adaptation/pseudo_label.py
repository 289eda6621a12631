"""Pseudo-labels: self-training on the target's confident predictions (Lee, 2013).

Start from the source-only network. For ``R`` rounds: label every unlabelled target
image whose top softmax probability clears a threshold ``tau`` with the network's own
prediction, then train on the source labels and those pseudo-labels together::

    T_r = { (x, argmax_k p_k(x)) : x in X_t^adapt,  max_k p_k(x) >= tau }
    L   = CE(g(f(x_s)), y_s) + CE(g(f(x_t)), y_hat_t),   (x_t, y_hat_t) ~ T_r

Each round relabels with the improved network, so the confident set grows. The
threshold guards against training on the network's own mistakes; ``tau = 0.9`` is a
fixed value from the self-training literature (FixMatch, Sohn et al. 2020, uses 0.95;
the lower value lets more of a shifted target through in round one). It is set
without looking at any target label, and the number of images selected is reported.
No target label is read here: this module only ever receives target *images*.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from introdl.adaptation.train import Budget, optimizer
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite, predict


@dataclass
class PseudoLabelConfig:
    rounds: int = 3  # relabel-then-train rounds
    threshold: float = 0.9  # tau: smallest top-class probability that earns a pseudo-label
    steps: int = 100  # optimiser steps per round (source + pseudo-labelled target batch)


@torch.no_grad()
def select_confident(model: nn.Module, x: torch.Tensor, threshold: float
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices, pseudo-labels and confidences of the images with ``max softmax >= threshold``.

    Shape:
        - Input: ``x`` ``(N, 3, 32, 32)``
        - Output: ``idx`` ``(M,)``, ``labels`` ``(M,)`` int64, ``confidence`` ``(N,)`` for all.
    """
    prob = predict(model, x).softmax(1)  # eval mode: the network as it would be tested
    confidence, labels = prob.max(1)
    idx = (confidence >= threshold).nonzero().flatten()
    return idx, labels[idx], confidence


def train_pseudo_label(model: nn.Module, xs: torch.Tensor, ys: torch.Tensor, xt: torch.Tensor,
                       budget: Budget, seed: int, cfg: PseudoLabelConfig | None = None,
                       progress: bool = False, desc: str = "pseudo-label") -> list[int]:
    """Self-train ``model`` (already trained on the source) on ``xt``; returns |T_r| per round.

    ``budget`` supplies batch size and learning rate; ``cfg.steps`` the steps per round.
    A round with no confident image trains on the source alone.
    """
    cfg = cfg or PseudoLabelConfig()
    g = torch.Generator().manual_seed(seed)
    opt = optimizer(model.parameters(), budget)
    ce = nn.CrossEntropyLoss()
    source = batches(xs, ys, batch_size=budget.batch_size, generator=g)
    selected = []
    with ProgressBar(cfg.rounds * cfg.steps, desc=desc, enabled=progress) as bar:
        for r in range(cfg.rounds):
            idx, labels, _ = select_confident(model, xt, cfg.threshold)
            selected.append(len(idx))
            target = (batches(xt[idx], labels, batch_size=budget.batch_size, generator=g)
                      if len(idx) else None)
            model.train()
            for step in range(cfg.steps):
                x_s, y_s = next(source)
                if target is None:
                    loss = ce(model(x_s), y_s)
                else:
                    x_t, y_t = next(target)
                    logits = model(torch.cat([x_s, x_t]))  # one pass over both batches
                    loss = ce(logits[:len(x_s)], y_s) + ce(logits[len(x_s):], y_t)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                check_finite(loss, step, desc)
                done = r * cfg.steps + step + 1
                if bar.due():
                    bar.update(done, loss=loss.item(), samples=done * budget.batch_size)
    return selected
