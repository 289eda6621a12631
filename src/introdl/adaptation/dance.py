"""DANCE: domain adaptative neighbourhood clustering via entropy optimisation
(Saito, Kim, Sclaroff, Darrell & Saenko, "Universal Domain Adaptation through Self-Supervision",
NeurIPS 2020).

Category shift: the target holds only some of the source classes, plus classes the source
never saw ("unknown"). Aligning whole domains (DANN) then pulls unknown target images onto
source classes. DANCE aligns nothing globally; on top of the source cross-entropy it adds two
losses on unlabelled target images, with a cosine classifier whose weights ``w_k`` (unit
norm) are the source class *prototypes* and ``f = F(x) / ||F(x)||`` the target features::

    L = CE(x_s, y_s) + eta * (L_nc + L_es)

- Neighbourhood clustering. A memory bank ``V`` (one L2-normalised feature per target
  image, refreshed from each batch) and the prototypes form ``{v_j} = {w_1..w_K, V}``. For a
  target feature ``f_i``, ``p_ij = softmax_j(f_i . v_j / T)`` (itself excluded), and
  ``L_nc = -1/B sum_i sum_j p_ij log p_ij``: each target image moves towards a few
  neighbours -- other target images or a prototype -- so target clusters form on their own.
- Entropy separation. ``p = softmax(w . f / T)`` over the K source classes, ``H(p)`` its
  entropy, ``rho = log(K) / 2``::

      L_es = -1/B sum_i |H(p_i) - rho| * [ |H(p_i) - rho| > m ]

  confident images (``H < rho - m``) become more confident (likely known); uncertain ones
  (``H > rho + m``) more uncertain (likely unknown); those inside the margin are left alone.

At test time an image with ``H(p) > rho`` is rejected as *unknown*, otherwise it gets
``argmax p``. The authors' evaluation (``eval.py``) applies exactly this entropy test, with
``thr = log(K)/2`` in its configs (1.49 for K = 20 classes); :func:`source_threshold` is a second,
label-free way to set the threshold per model (from held-out *source* images), and
:func:`rejection_auroc` scores the entropy ranking without any threshold.
Defaults are the paper's: ``T = 0.05``, ``m = 0.5``, ``rho = log(K)/2``,
``eta = 0.05``, memory momentum 0 (``configs/*OPDA.yaml`` of the authors' code).
Departure: the bank starts from the network's features of the target images (the authors'
starts from zeros and fills as batches arrive).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import nn

from introdl.adaptation.metrics import h_score
from introdl.adaptation.networks import CosineClassifier, cosine_net, entropy
from introdl.adaptation.train import Budget, embed, optimizer
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches, check_finite, predict

dance_net = cosine_net  # the DigitNet with the cosine-prototype head (MME and PAC use it too)


class MemoryBank(nn.Module):
    """One L2-normalised feature per target image, refreshed with momentum from each batch.

    ``v_i <- normalise(momentum * v_i + (1 - momentum) * f_i)`` for the batch's indices ``i``;
    momentum 0 (the paper's) simply stores the newest feature.

    Args:
        size: number of target images N.
        dim: feature width.
        momentum: weight of the old entry.
    """

    def __init__(self, size: int, dim: int, momentum: float = 0.0) -> None:
        super().__init__()
        self.momentum = momentum
        self.register_buffer("features", torch.zeros(size, dim))

    @torch.no_grad()
    def fill(self, features: torch.Tensor) -> None:
        self.features.copy_(F.normalize(features, dim=1))

    @torch.no_grad()
    def update(self, features: torch.Tensor, index: torch.Tensor) -> None:
        mixed = self.momentum * self.features[index] + (1 - self.momentum) * features.detach()
        self.features[index] = F.normalize(mixed, dim=1)


class NeighbourhoodClusteringLoss(nn.Module):
    """``L_nc = -1/B sum_i sum_j p_ij log p_ij``, ``p_ij = softmax_j(f_i . v_j / T)``, ``j != i``.

    ``{v_j}`` are the K prototypes, then the memory bank with the batch's own rows replaced by
    the batch's current features ``f`` (so gradients flow through both sides of ``f_i . f_j``,
    as in the authors' code). A feature's similarity to itself is set to ``-1/T``, the lowest
    cosine, which leaves it with ``exp(-2/T)`` of the mass: nil (the authors' choice).

    Inputs: ``f`` ``(B, d)`` target features (normalised here), ``index`` ``(B,)`` their rows in
    ``bank`` ``(N, d)`` (unit rows), ``prototypes`` ``(K, d)`` (unit rows). Output: a scalar.
    """

    def __init__(self, temperature: float = 0.05) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, f: torch.Tensor, index: torch.Tensor, bank: torch.Tensor,
                prototypes: torch.Tensor) -> torch.Tensor:
        f = F.normalize(f, dim=1)
        neighbours = bank.detach().clone()
        neighbours[index] = f  # (N, d): the batch's rows are live features
        sim = f @ torch.cat([prototypes, neighbours]).t() / self.temperature  # (B, K + N)
        rows = torch.arange(len(f), device=f.device)
        sim[rows, len(prototypes) + index] = -1.0 / self.temperature  # not its own neighbour
        return entropy(sim).mean()


class EntropySeparationLoss(nn.Module):
    """``L_es = -1/B sum_i |H(p_i) - rho| * [|H(p_i) - rho| > m]``, ``p_i = softmax(logits_i)``.

    Minimising it lowers the entropy of samples already below ``rho - m`` and raises it for
    samples above ``rho + m``; samples inside the margin get no gradient.

    Args:
        rho: the entropy threshold; ``log(K) / 2`` in the paper.
        margin: m; 0.5 in the paper.

    Inputs: ``logits`` ``(B, K)``. Output: a scalar.
    """

    def __init__(self, rho: float, margin: float = 0.5) -> None:
        super().__init__()
        self.rho, self.margin = rho, margin

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        gap = (entropy(logits) - self.rho).abs()  # (B,)
        return -(gap * (gap > self.margin).float()).mean()


def default_rho(classes: int) -> float:
    """The paper's threshold ``log(K) / 2``: half the entropy of a uniform guess over K classes."""
    return math.log(classes) / 2


def open_set_predict(logits: torch.Tensor, rho: float) -> torch.Tensor:
    """``argmax`` over the K classes, or K ("unknown") where ``H(softmax(logits)) > rho``."""
    pred = logits.argmax(1)
    pred[entropy(logits) > rho] = logits.shape[1]
    return pred


def open_set_scores(logits: torch.Tensor, y: torch.Tensor, rho: float) -> dict[str, float]:
    """Known-class accuracy, unknown recall and their H-score; ``y == K`` marks unknown images.

    A known image counts as right only if it is accepted *and* given its class; an unknown
    one only if it is rejected. ``closed_acc`` is the known images' accuracy without rejection.
    """
    k = logits.shape[1]
    pred = open_set_predict(logits, rho)
    known, unknown = y < k, y == k
    known_acc = (pred[known] == y[known]).float().mean().item()
    unknown_recall = (pred[unknown] == k).float().mean().item()
    return {"known_acc": known_acc, "unknown_recall": unknown_recall,
            "h_score": h_score(known_acc, unknown_recall),
            "closed_acc": (logits[known].argmax(1) == y[known]).float().mean().item()}


def source_threshold(source_entropy: torch.Tensor, keep: float = 0.95) -> float:
    """The entropy below which a share ``keep`` of held-out *source* images fall.

    A per-model rejection threshold set without any target label: every source image is of
    a known class, so rejecting above this value wrongly rejects ``1 - keep`` of them (the
    usual "95% true-positive rate" operating point of out-of-distribution detection).
    """
    if not 0 < keep < 1:
        raise ValueError(f"keep must be in (0, 1), got {keep}")
    return torch.quantile(source_entropy.double(), keep).item()


def rejection_auroc(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Area under the ROC curve of entropy as an "unknown" score; ``y == K`` marks unknown.

    Threshold-free: 1 when every unknown image has a higher entropy than every known one,
    0.5 for a ranking no better than chance (scikit-learn's ``roc_auc_score``).
    """
    unknown = (y == logits.shape[1]).numpy()
    return float(roc_auc_score(unknown, entropy(logits).numpy()))


def target_entropy(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``H(p)`` of each image under ``model`` (eval mode), for histograms and rejection."""
    return entropy(predict(model, x))


def train_dance(model: nn.Module, xs: torch.Tensor, ys: torch.Tensor, xt: torch.Tensor,
                budget: Budget, seed: int, eta: float = 0.05, margin: float = 0.5,
                momentum: float = 0.0, rho: float | None = None, progress: bool = False,
                desc: str = "dance") -> list[float]:
    """Train ``model`` (a :func:`dance_net`) with DANCE on ``(xs, ys)`` and unlabelled ``xt``.

    Returns the total loss per step. ``rho`` defaults to ``log(K) / 2``.
    """
    head: CosineClassifier = model.head
    k = head.weight.shape[0]
    g = torch.Generator().manual_seed(seed)
    bank = MemoryBank(len(xt), model.feature_dim, momentum)
    bank.fill(embed(model, xt))
    nc = NeighbourhoodClusteringLoss(head.temperature)
    es = EntropySeparationLoss(default_rho(k) if rho is None else rho, margin)
    ce = nn.CrossEntropyLoss()
    opt = optimizer(model.parameters(), budget)
    source = batches(xs, ys, batch_size=budget.batch_size, generator=g)
    target = batches(xt, torch.arange(len(xt)), batch_size=budget.batch_size, generator=g)
    model.train()
    losses = []
    with ProgressBar(budget.steps, desc=desc, enabled=progress) as bar:
        for step in range(budget.steps):
            (x_s, y_s), (x_t, i_t) = next(source), next(target)
            z_t = model.features(x_t)  # (B, d)
            loss_s = ce(model(x_s), y_s)
            loss_nc = nc(z_t, i_t, bank.features, head.prototypes())
            loss_es = es(head(z_t))
            loss = loss_s + eta * (loss_nc + loss_es)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            bank.update(F.normalize(z_t.detach(), dim=1), i_t)
            check_finite(loss, step, desc)
            losses.append(loss.item())
            if bar.due():
                bar.update(step + 1, loss=loss.item(), samples=(step + 1) * budget.batch_size)
    return losses
