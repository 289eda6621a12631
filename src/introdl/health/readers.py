"""Simulated radiologists: a signal-detection model of reading a case, tuned to stated rates.

Model (equal-variance, Gaussian signal detection, one read per reader per case):

- Each case has a *suspicion* ``u >= 0``, what a reader can see: the lesion's conspicuity
  (contrast-to-noise x radius, :func:`introdl.health.ct.conspicuity`) for malignant and
  small benign nodules, ``calcified_weight`` x that for calcified granulomas (readers mostly
  recognise calcification as benign), and 0 without a lesion. Suspicions are divided by the
  mean malignant suspicion, so a typical cancer has ``u = 1``.
- Reader ``r`` perceives ``s = k_r * u + e``, ``e ~ N(0, 1)`` drawn afresh for every read,
  and calls the case positive when ``s > t_r``. So readers miss small, faint nodules far more
  often than large solid ones, and a reader's errors are partly the case's fault and partly
  their own noise.
- Reader ``r``'s target sensitivity and specificity are drawn around the stated means with
  the stated spread (normal, clipped to [0.55, 0.99]); ``(k_r, t_r)`` are then solved so
  that the reader's *expected* rates over the case distribution (a reference sample of
  suspicions, never the test cases) equal those targets.

On real data without lesion parameters (NoduleMNIST3D), suspicion is 1 for every positive
and 0 for every negative: readers then differ from each other only by their rates.

The means are assumptions chosen for illustration (defaults 0.80 / 0.80, spread 0.05
each); they are not the readers of Ardila et al. (For scale: the NLST reported 93.8%
sensitivity and 73.4% specificity per low-dose CT screen, Aberle et al. 2011.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from introdl.health.ct import CTParams, Lesion, conspicuity, draw_lesion


@dataclass(frozen=True)
class ReaderParams:
    """The readers' stated means and spread."""

    n: int = 6  # readers (Ardila et al.'s reader study had six radiologists)
    sensitivity: float = 0.80  # mean over readers
    specificity: float = 0.80
    spread: float = 0.05  # SD of each reader's sensitivity and specificity around the means
    calcified_weight: float = 0.15  # how suspicious a calcified granuloma looks, x conspicuity


@dataclass(frozen=True)
class Reader:
    """One simulated reader: target rates and the (gain, threshold) that produce them."""

    sensitivity: float
    specificity: float
    gain: float  # k: how strongly the case's suspicion moves the reader's percept
    threshold: float  # t: call positive when k*u + noise > t

    def read(self, suspicion: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Calls (1 = malignant) for cases with the given suspicions; fresh noise per read."""
        u = np.asarray(suspicion, dtype=float)
        return (self.gain * u + rng.normal(0, 1, u.shape) > self.threshold).astype(np.int64)

    def expected_rates(self, u_pos: np.ndarray, u_neg: np.ndarray) -> tuple[float, float]:
        """(sensitivity, specificity) this reader has on average over the given suspicions."""
        return (float(norm.cdf(self.gain * u_pos - self.threshold).mean()),
                float(norm.cdf(self.threshold - self.gain * u_neg).mean()))


def suspicion(lesions: Sequence[Lesion], p: CTParams, calcified_weight: float) -> np.ndarray:
    """Each case's raw suspicion (before normalising by the mean malignant suspicion)."""
    return np.array([conspicuity(les, p) * (calcified_weight if les.kind == "calcified" else 1)
                     for les in lesions])


def reference(p: CTParams, rp: ReaderParams, n: int = 20000, seed: int = 12345
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """Suspicions of positives and negatives over the case distribution, and the scale.

    Drawn from the simulator's lesion distribution (no volumes rendered), from a fixed seed
    of its own: readers are tuned to the population, never to the cases they will read.
    Returns normalised (u_pos, u_neg) and the scale (mean malignant raw suspicion).
    """
    rng = np.random.default_rng(seed)
    lesions = [draw_lesion(rng, p) for _ in range(n)]
    u = suspicion(lesions, p, rp.calcified_weight)
    pos = np.array([les.malignant for les in lesions])
    scale = float(u[pos].mean())
    return u[pos] / scale, u[~pos] / scale, scale


def calibrate(sensitivity: float, specificity: float, u_pos: np.ndarray, u_neg: np.ndarray
              ) -> tuple[float, float]:
    """The (gain, threshold) whose expected rates over (u_pos, u_neg) are the targets."""
    if sensitivity <= 1 - specificity:
        raise ValueError("a reader must beat chance: sensitivity > 1 - specificity")

    def threshold(k: float) -> float:  # specificity rises with t
        return brentq(lambda t: norm.cdf(t - k * u_neg).mean() - specificity, -20, 60)

    def sens_gap(k: float) -> float:
        return norm.cdf(k * u_pos - threshold(k)).mean() - sensitivity

    hi = 1.0
    while sens_gap(hi) < 0:
        hi *= 2
        if hi > 1e3:
            raise ValueError(f"no reader reaches sensitivity {sensitivity} at specificity "
                             f"{specificity} on these cases")
    k = brentq(sens_gap, 0.0, hi)
    return float(k), float(threshold(k))


def make_readers(rp: ReaderParams, u_pos: np.ndarray, u_neg: np.ndarray,
                 rng: np.random.Generator) -> list[Reader]:
    """``rp.n`` readers whose target rates are drawn around the stated means."""
    readers = []
    for _ in range(rp.n):
        sens, spec = np.clip(rng.normal([rp.sensitivity, rp.specificity], rp.spread), 0.55, 0.99)
        k, t = calibrate(float(sens), float(spec), u_pos, u_neg)
        readers.append(Reader(float(sens), float(spec), k, t))
    return readers
