"""How far apart two domains are, and how much of the gap a method closes.

- Proxy A-distance (Ben-David et al., 2007; computed as in Ganin et al., 2016): train a
  linear SVM to tell source features from target features; with its held-out error
  ``eps``, ``PAD = 2 (1 - 2 eps)``: 2 when the domains are perfectly separable, 0 at chance.
- k-NN class accuracy of features: how class-separated a domain's features are
  (cross-validated, so it needs that domain's labels -- an *analysis* number, never
  used to train or select).
- Class silhouette (cosine): how tight and apart a domain's class clusters are, in -1..1.
- Gap closed: ``(acc - source_only) / (ceiling - source_only)``, where the ceiling is
  the same network trained on labelled target data.
- H-score (open-set, DANCE): harmonic mean of known-class accuracy and unknown recall.
"""

from __future__ import annotations

import numpy as np
import torch


def proxy_a_distance(source: torch.Tensor, target: torch.Tensor, seed: int = 0,
                     max_per_domain: int = 1000,
                     cs: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0)) -> float:
    """``2 (1 - 2 eps)`` for a linear-SVM domain classifier, as Ganin et al. (2016) compute it.

    Balanced samples of both domains are split in half; a linear SVM (standardised
    features) is trained on one half for each ``C`` in ``cs`` and tested on the other;
    ``eps`` is the smallest held-out error over ``cs`` (an error above 1/2 counts as
    ``1 - error``), the procedure of DANN's reference code. Taking the best ``C`` makes the
    distance an upper estimate: "near chance" has to hold for every probe tried.
    ``seed`` may be any non-negative integer (a run's ``seed + i`` can pass ``2**32``);
    scikit-learn gets it modulo ``2**32``, so smaller seeds are used unchanged.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(seed)
    fs, ft = (f.numpy()[rng.permutation(len(f))[:max_per_domain]] for f in (source, target))
    n = min(len(fs), len(ft))  # balanced, so chance is exactly 1/2
    X = np.concatenate([fs[:n], ft[:n]])
    d = np.r_[np.zeros(n), np.ones(n)]
    Xtr, Xte, dtr, dte = train_test_split(X, d, test_size=0.5, random_state=seed % 2**32,
                                          stratify=d)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    eps = 0.5
    for c in cs:
        err = 1.0 - LinearSVC(C=c, max_iter=20000).fit(Xtr, dtr).score(Xte, dte)
        eps = min(eps, err, 1.0 - err)
    return float(2.0 * (1.0 - 2.0 * eps))


def knn_class_accuracy(features: torch.Tensor, labels: torch.Tensor, k: int = 5,
                       folds: int = 5, seed: int = 0) -> float:
    """Cross-validated k-NN accuracy of ``labels`` from ``features`` (cosine distance).

    ``seed`` is taken modulo ``2**32``, scikit-learn's ``random_state`` range.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    cv = StratifiedKFold(folds, shuffle=True, random_state=seed % 2**32)
    knn = KNeighborsClassifier(k, metric="cosine")
    return float(cross_val_score(knn, features.numpy(), labels.numpy(), cv=cv).mean())


def class_silhouette(features: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean silhouette of the classes under cosine distance (scikit-learn's)."""
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(features.numpy(), labels.numpy(), metric="cosine"))


def gap_closed(acc: float, source_only: float, ceiling: float) -> float:
    """Share of the source-only -> target-supervised gap that ``acc`` closes (nan if no gap)."""
    gap = ceiling - source_only
    return float("nan") if gap <= 1e-9 else (acc - source_only) / gap


def h_score(known_acc: float, unknown_recall: float) -> float:
    """Harmonic mean of known-class accuracy and unknown recall (0 when either is 0)."""
    s = known_acc + unknown_recall
    return 0.0 if s == 0 else 2.0 * known_acc * unknown_recall / s
