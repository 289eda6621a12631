"""Subgroup evaluation with Fairlearn, and the three responses to a gap the lecture names.

Evaluate: :func:`subgroup_frame` is a Fairlearn ``MetricFrame`` of accuracy,
sensitivity (recall of the malignant class), specificity (recall of the benign class)
and selection rate per group (here, per Fitzpatrick skin type);
:func:`equalized_odds_gap` is Fairlearn's equalised-odds difference (the larger of the
between-group gaps in true- and false-positive rate).

Respond:

1. *Supplement the data* at training time: :func:`inverse_frequency_weights` gives
   each image a sampling weight so every group is drawn equally often (oversampling);
   drawing more images of the under-served groups is done by the caller.
2. *Adjust or limit the model*: :func:`fit_group_thresholds` fits Fairlearn's
   ``ThresholdOptimizer`` (per-group, possibly randomised thresholds under an
   equalised-odds constraint) on a **validation** split's prefit scores; the test split
   is only ever passed to :func:`apply_group_thresholds`, with no labels.
   :func:`abstaining_groups` names the groups whose validation sensitivity or
   specificity falls below a stated bar; the model abstains (refers to a clinician) on them, and
   :func:`coverage_report` scores what it still answers.
3. *Do not deploy*: :func:`deploy_decision` is the rule "deploy only if every group's
   validation sensitivity and specificity reach the bar".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from fairlearn.metrics import MetricFrame, equalized_odds_difference, selection_rate
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score, recall_score


def sensitivity(y_true, y_pred) -> float:
    """True-positive rate: the share of malignant lesions called malignant."""
    return float(recall_score(y_true, y_pred, pos_label=1, zero_division=np.nan))


def specificity(y_true, y_pred) -> float:
    """True-negative rate: the share of benign lesions called benign."""
    return float(recall_score(y_true, y_pred, pos_label=0, zero_division=np.nan))


METRICS = {"accuracy": accuracy_score, "sensitivity": sensitivity,
           "specificity": specificity, "selection_rate": selection_rate}


def subgroup_frame(y_true, y_pred, groups) -> MetricFrame:
    """Fairlearn MetricFrame of :data:`METRICS`, overall and per group."""
    return MetricFrame(metrics=METRICS, y_true=np.asarray(y_true), y_pred=np.asarray(y_pred),
                       sensitive_features=np.asarray(groups))


def equalized_odds_gap(y_true, y_pred, groups) -> float:
    """Fairlearn's equalised-odds difference (worst between-group TPR or FPR gap)."""
    return float(equalized_odds_difference(np.asarray(y_true), np.asarray(y_pred),
                                           sensitive_features=np.asarray(groups)))


def inverse_frequency_weights(groups) -> np.ndarray:
    """Per-sample weights proportional to 1 / (its group's frequency), mean 1."""
    groups = np.asarray(groups)
    values, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inverse]
    return w / w.mean()


class PrefitScores(ClassifierMixin, BaseEstimator):
    """A "classifier" whose single input column already is the model's P(malignant).

    Lets Fairlearn's ThresholdOptimizer post-process scores of a network trained
    elsewhere (``prefit=True``) without refitting anything.
    """

    def fit(self, X, y=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = np.asarray(X, dtype=float).reshape(-1)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (np.asarray(X, dtype=float).reshape(-1) >= 0.5).astype(int)


def fit_group_thresholds(val_scores, val_labels, val_groups, *,
                         constraints: str = "equalized_odds",
                         objective: str = "balanced_accuracy_score") -> ThresholdOptimizer:
    """Fit per-group thresholds on a validation split's scores (never the test split's)."""
    opt = ThresholdOptimizer(estimator=PrefitScores().fit(None), constraints=constraints,
                             objective=objective, prefit=True, predict_method="predict_proba")
    opt.fit(np.asarray(val_scores, float).reshape(-1, 1), np.asarray(val_labels),
            sensitive_features=np.asarray(val_groups))
    return opt


def apply_group_thresholds(opt: ThresholdOptimizer, scores, groups, seed: int) -> np.ndarray:
    """Predictions of the fitted thresholds (randomised where the optimum mixes two)."""
    return np.asarray(opt.predict(np.asarray(scores, float).reshape(-1, 1),
                                  sensitive_features=np.asarray(groups), random_state=seed))


BAR_METRICS = ("sensitivity", "specificity")


def abstaining_groups(frame: MetricFrame, bar: float,
                      metrics: tuple[str, ...] = BAR_METRICS) -> list:
    """Groups whose (validation) sensitivity or specificity is below ``bar``: referred."""
    by = frame.by_group
    return [g for g in by.index if not all(by[m][g] >= bar for m in metrics)]


@dataclass
class Coverage:
    coverage: float  # share of cases the model answers
    frame: MetricFrame | None  # metrics on the answered cases (None when it answers none)


def coverage_report(y_true, y_pred, groups, abstain: list) -> Coverage:
    """Score only the cases outside the abstaining groups."""
    groups = np.asarray(groups)
    keep = ~np.isin(groups, abstain)
    frame = subgroup_frame(np.asarray(y_true)[keep], np.asarray(y_pred)[keep],
                           groups[keep]) if keep.any() else None
    return Coverage(float(keep.mean()), frame)


def deploy_decision(val_frame: MetricFrame, bar: float,
                    metrics: tuple[str, ...] = BAR_METRICS) -> tuple[bool, str]:
    """Deploy only if every group's validation metrics reach ``bar``; says why not."""
    below = abstaining_groups(val_frame, bar, metrics)
    if not below:
        return True, f"every group's validation {'/'.join(metrics)} >= {bar:g}"
    by = val_frame.by_group
    worst = "; ".join(f"{g}: " + ", ".join(f"{m} {by[m][g]:.2f}" for m in metrics)
                      for g in below)
    return False, f"below {bar:g} on validation for {worst}"
