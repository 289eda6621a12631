"""A simulated pathologist, alone and reviewing a model's top regions.

**Unaided read.** The pathologist reports no false positives (specificity is what
pathologists are good at) and finds a lesion of radius ``r`` with probability

    p(r) = 1 / (1 + (r50 / r) ** k)       (a logistic curve in log radius),

steepness ``k`` (default 3) and half-detection radius ``r50`` chosen by :func:`calibrate` so the
average over the slides' lesion-size law is the stated overall sensitivity (default 0.73, the
lecture's figure for pathologists on the CAMELYON16 slides under time constraints: small
metastases are the ones missed).

**Model-assisted read.** The same pathologist (the same unaided finds) also reviews the regions
the model flags on each slide (the detections handed over, e.g. those above the model's
operating threshold; at most ``top_k``, best first): a detection on a true lesion is confirmed
with probability ``confirm`` (default 0.95; the region is shown, so size matters little), a
detection off every lesion is accepted (a false positive) with probability ``accept_fp``
(default 0.02). The assisted read finds a lesion if either route does.

Both reads draw from one seeded generator: the same seed gives the same reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from introdl.health.froc import match


@dataclass(frozen=True)
class Pathologist:
    r50: float  # radius found half the time (px)
    steepness: float = 3.0
    confirm: float = 0.95  # P(confirm | reviewed region is a lesion)
    accept_fp: float = 0.02  # P(accept | reviewed region is not a lesion)

    def p_detect(self, radius: np.ndarray | float) -> np.ndarray:
        r = np.asarray(radius, float)
        return 1.0 / (1.0 + (self.r50 / r) ** self.steepness)


def calibrate(radii_law: np.ndarray, sensitivity: float = 0.73,
              steepness: float = 3.0, **kw) -> Pathologist:
    """The pathologist whose mean p(r) over ``radii_law`` (a sample of radii) is ``sensitivity``."""
    radii = np.asarray(radii_law, float)

    def gap(log_r50: float) -> float:
        return float(np.mean(Pathologist(np.exp(log_r50), steepness).p_detect(radii))) \
            - sensitivity

    lo, hi = np.log(radii.min()) - 5, np.log(radii.max()) + 5
    return Pathologist(float(np.exp(brentq(gap, lo, hi))), steepness, **kw)


def unaided(path: Pathologist, radii: list[np.ndarray],
            rng: np.random.Generator) -> list[np.ndarray]:
    """Per slide, which lesions the pathologist finds alone (bool per lesion)."""
    return [rng.random(len(r)) < path.p_detect(r) for r in radii]


def assisted(path: Pathologist, alone: list[np.ndarray], dets: list[np.ndarray],
             labels: list[np.ndarray], top_k: int,
             rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """Per slide, lesions found with the model's help, and accepted false positives per slide.

    ``dets[i]`` are the model's flagged (y, x, score) detections on slide i, best first; the
    first ``top_k`` are reviewed. ``alone`` is :func:`unaided`'s result for the same slides.
    """
    found, fps = [], []
    for seen, d, lab in zip(alone, dets, labels, strict=True):
        seen = seen.copy()
        ids = match(d[:top_k], lab)
        fp = 0
        for k in ids:
            if k > 0:
                if rng.random() < path.confirm:
                    seen[k - 1] = True
            elif rng.random() < path.accept_fp:
                fp += 1
        found.append(seen)
        fps.append(fp)
    return found, np.array(fps, float)
