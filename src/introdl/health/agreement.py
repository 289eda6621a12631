"""Agreement between graders, and between a model and the truth, on an ordinal 0-4 scale.

Cohen's quadratic-weighted kappa is scikit-learn's ``cohen_kappa_score(weights="quadratic")``:
1 is perfect agreement, 0 is chance; a disagreement by ``d`` grades costs ``d^2`` (so
0 vs 4 is much worse than 2 vs 3), the standard score of diabetic-retinopathy grading.
:func:`quadratic_kappa_by_hand` spells the formula out and is tested against scikit-learn.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from sklearn.metrics import cohen_kappa_score

from introdl.health.fundus import GRADES


def quadratic_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's quadratic-weighted kappa of two gradings (scikit-learn); 0 when both are constant
    and equal (scikit-learn's NaN there means "no variation to agree on")."""
    a, b = np.asarray(a), np.asarray(b)
    k = cohen_kappa_score(a, b, weights="quadratic", labels=list(range(GRADES)))
    return 0.0 if np.isnan(k) else float(k)


def quadratic_kappa_by_hand(a: np.ndarray, b: np.ndarray, k: int = GRADES) -> float:
    """The same kappa from its definition: 1 - sum(W O) / sum(W E), ``W_ij = (i - j)^2``."""
    a, b = np.asarray(a, int), np.asarray(b, int)
    observed = np.zeros((k, k))
    np.add.at(observed, (a, b), 1)
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    w = (np.arange(k)[:, None] - np.arange(k)[None]) ** 2
    den = (w * expected).sum()
    return float(1 - (w * observed).sum() / den) if den > 0 else 0.0


def pairwise_agreement(grades: np.ndarray) -> tuple[float, float]:
    """Mean over grader pairs of exact agreement and of quadratic kappa; ``grades`` is (n, G)."""
    grades = np.asarray(grades)
    pairs = list(combinations(range(grades.shape[1]), 2))
    exact = [float(np.mean(grades[:, i] == grades[:, j])) for i, j in pairs]
    kappa = [quadratic_kappa(grades[:, i], grades[:, j]) for i, j in pairs]
    return float(np.mean(exact)), float(np.mean(kappa))
