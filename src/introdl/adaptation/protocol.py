"""The honest protocol every Lecture 10 experiment follows, written once.

- Pairs: ``--set source=A target=B`` runs one pair; leaving both empty runs the offline
  pairs in :data:`~introdl.adaptation.domains.PAIRS`.
- Every method trains for the same fixed :class:`~introdl.adaptation.train.Budget`;
  hyper-parameters are the papers' or chosen on *source* validation data; no target
  label is used to train, stop or select. The target test set is scored once.
- Baselines in the same run: *source-only* (the floor) and *target-supervised* (the
  same network trained on the target's labelled train part: the ceiling). Each method
  reports the share of the floor -> ceiling gap it closes.
- Seeds: ``seeds`` runs (``run.seed``, ``run.seed + 1``, ...), reported as mean and spread.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

import torch

from introdl.adaptation.domains import PAIRS, Domain, load_domain
from introdl.adaptation.networks import DigitNet
from introdl.adaptation.train import Budget, accuracy, train_source_only
from introdl.errors import UsageError

Pair = tuple[str, str]


def resolve_pairs(source: str, target: str, default: Sequence[Pair] = PAIRS) -> list[Pair]:
    """One pair from ``source``/``target``, or the ``default`` pairs when both are empty."""
    if not source and not target:
        return list(default)
    if not source or not target:
        raise UsageError("set both --set source=NAME and --set target=NAME (or neither, for "
                         "every offline pair)")
    if source == target:
        raise UsageError(f"source and target are both {source!r}; choose two different domains")
    return [(source, target)]


def load_pair(pair: Pair, limit: int = 0) -> tuple[Domain, Domain]:
    return load_domain(pair[0], limit), load_domain(pair[1], limit)


def pair_name(pair: Pair) -> str:
    return f"{pair[0]}->{pair[1]}"


def source_only(src: Domain, budget: Budget, seed: int, progress: bool = False,
                make: Callable[[], torch.nn.Module] = DigitNet, desc: str = "source-only"
                ) -> torch.nn.Module:
    """A network trained on the labelled source only: the floor every method must beat."""
    torch.manual_seed(seed)
    model = make()
    train_source_only(model, src.x_train, src.y_train, budget, seed, progress, desc)
    return model


def target_supervised(tgt: Domain, budget: Budget, seed: int, progress: bool = False,
                      make: Callable[[], torch.nn.Module] = DigitNet) -> float:
    """Target test accuracy of the same network trained on labelled target data: the ceiling.

    The one place a target's labels are used, and only its train part's; it is a
    reference line, never a method.
    """
    model = source_only(tgt, budget, seed, progress, make, desc="target-supervised")
    return accuracy(model, tgt.x_test, tgt.y_test)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    vals = [float(v) for v in values]
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def fmt(values: Sequence[float]) -> str:
    """``0.912 ± 0.004`` (or ``0.912`` for one seed)."""
    m, s = mean_std(values)
    return f"{m:.3f}" if len(values) == 1 else f"{m:.3f} ± {s:.3f}"
