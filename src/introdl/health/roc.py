"""ROC, AUC with a bootstrap interval, and model operating points matched to readers.

ROC and AUC come from scikit-learn. What is written here:

- :func:`bootstrap_auc`: the percentile bootstrap over cases (resample cases with
  replacement, recompute the AUC, take the 2.5th and 97.5th percentiles), seeded;
  resamples holding a single class are redrawn.
- Thresholds that match a rate *on validation data*: :func:`threshold_for_specificity`
  (the lowest threshold whose specificity reaches the target, i.e. the most sensitive
  operating point that is at least as specific) and :func:`threshold_for_sensitivity`
  (the highest threshold whose sensitivity reaches the target). A case is called positive
  when its score is strictly above the threshold.
- :func:`balanced_threshold`: the operating rule for "fewer false positives *and* fewer
  false negatives": halfway (in score) between the threshold matching the readers'
  specificity and the one matching their sensitivity, both on validation. If the model's
  ROC lies above the readers' point, every threshold between those two has lower false
  positive and lower false negative rates than the readers.

The thresholds take only validation labels and scores; the test split is scored once with
the chosen threshold (:func:`error_rates`).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = ["roc_curve", "roc_auc_score", "bootstrap_auc", "threshold_for_specificity",
           "threshold_for_sensitivity", "balanced_threshold", "error_rates", "calls"]


def bootstrap_auc(y: np.ndarray, s: np.ndarray, n_boot: int = 1000, seed: int = 0,
                  level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the AUC (cases resampled with replacement)."""
    y, s = np.asarray(y), np.asarray(s)
    if len(np.unique(y)) < 2:
        raise ValueError("the AUC needs both classes")
    rng = np.random.default_rng(seed)
    aucs = []
    while len(aucs) < n_boot:
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():  # one class only: no AUC, redraw
            continue
        aucs.append(roc_auc_score(y[idx], s[idx]))
    alpha = (1 - level) / 2
    lo, hi = np.percentile(aucs, [100 * alpha, 100 * (1 - alpha)])
    return float(lo), float(hi)


def calls(s: np.ndarray, threshold: float) -> np.ndarray:
    """1 where the score is strictly above the threshold."""
    return (np.asarray(s) > threshold).astype(np.int64)


def error_rates(y: np.ndarray, called: np.ndarray) -> tuple[float, float]:
    """(false positive rate, false negative rate) of binary calls against labels."""
    y, called = np.asarray(y), np.asarray(called)
    fpr = float(called[y == 0].mean()) if (y == 0).any() else math.nan
    fnr = float(1 - called[y == 1].mean()) if (y == 1).any() else math.nan
    return fpr, fnr


def threshold_for_specificity(y: np.ndarray, s: np.ndarray, specificity: float) -> float:
    """The lowest threshold whose specificity on (y, s) is at least ``specificity``."""
    neg = np.sort(np.asarray(s)[np.asarray(y) == 0])
    k = math.ceil(specificity * len(neg) - 1e-9)  # negatives that must be at or below it
    return float(neg[k - 1]) if k > 0 else float(np.nextafter(neg[0], -np.inf))


def threshold_for_sensitivity(y: np.ndarray, s: np.ndarray, sensitivity: float) -> float:
    """The highest threshold whose sensitivity on (y, s) is at least ``sensitivity``."""
    pos = np.sort(np.asarray(s)[np.asarray(y) == 1])
    m = math.ceil(sensitivity * len(pos) - 1e-9)  # positives that must be strictly above it
    if m <= 0:
        return float(pos[-1])
    return float(np.nextafter(pos[len(pos) - m], -np.inf))


def balanced_threshold(y: np.ndarray, s: np.ndarray, sensitivity: float,
                       specificity: float) -> float:
    """Halfway between the specificity-matched and the sensitivity-matched thresholds."""
    return 0.5 * (threshold_for_specificity(y, s, specificity)
                  + threshold_for_sensitivity(y, s, sensitivity))
