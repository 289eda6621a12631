"""FROC: lesion sensitivity against the average number of false positives per slide.

Detections are points with a score. A detection is a *hit* when it falls inside a lesion
(the lesion label image, optionally grown by a tolerance); a lesion counts as found once,
however many detections fall in it, and extra detections inside a lesion are not false
positives (the CAMELYON16 rule). Every other detection is a false positive. Sweeping the
score threshold gives the FROC curve; the summary is the sensitivity at fixed average
false positives per slide (e.g. 1/4, 1/2, 1, 2, 4, 8), the largest sensitivity reached
without exceeding that rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.feature import peak_local_max
from skimage.segmentation import expand_labels


def detections(heat: np.ndarray, stride: int, min_score: float = 0.05,
               min_distance: int = 3) -> np.ndarray:
    """Local maxima of a heat map as (y, x, score) rows in slide pixels, best first.

    ``stride`` maps heat-map cells to slide pixels (cell i is centred on i * stride +
    stride // 2); maxima closer than ``min_distance`` cells are merged (the higher kept).
    """
    peaks = peak_local_max(heat, min_distance=min_distance, threshold_abs=min_score,
                           exclude_border=False)
    if len(peaks) == 0:
        return np.zeros((0, 3))
    scores = heat[peaks[:, 0], peaks[:, 1]]
    out = np.column_stack([peaks * stride + stride // 2, scores]).astype(float)
    return out[np.argsort(-out[:, 2], kind="stable")]


def hit_labels(labels: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Lesion labels grown by ``tolerance`` pixels (a detection that near a lesion counts)."""
    return expand_labels(labels, tolerance) if tolerance > 0 else labels


def match(dets: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The lesion label under each detection (0 = outside every lesion = a false positive)."""
    if len(dets) == 0:
        return np.zeros(0, int)
    y = np.clip(np.round(dets[:, 0]).astype(int), 0, labels.shape[0] - 1)
    x = np.clip(np.round(dets[:, 1]).astype(int), 0, labels.shape[1] - 1)
    return labels[y, x].astype(int)


@dataclass
class Froc:
    thresholds: np.ndarray  # descending scores
    sensitivity: np.ndarray  # share of lesions found at score >= threshold
    fps_per_slide: np.ndarray  # average false positives per slide at that threshold
    n_lesions: int
    n_slides: int

    def sensitivity_at(self, fps: float) -> float:
        """Largest sensitivity with average false positives per slide <= ``fps``."""
        ok = self.fps_per_slide <= fps + 1e-12
        return float(self.sensitivity[ok].max()) if ok.any() else 0.0

    def threshold_for_fps(self, fps: float) -> float:
        """The lowest threshold whose average false positives per slide stay <= ``fps``."""
        ok = self.fps_per_slide <= fps + 1e-12
        return float(self.thresholds[ok][-1])

    def threshold_for_sensitivity(self, target: float) -> float:
        """The highest threshold whose sensitivity reaches ``target`` (else the lowest one)."""
        ok = self.sensitivity >= target - 1e-12
        return float(self.thresholds[ok][0]) if ok.any() else float(self.thresholds[-1])


def froc(dets: list[np.ndarray], labels: list[np.ndarray]) -> Froc:
    """FROC over slides: ``dets[i]`` (y, x, score) rows, ``labels[i]`` lesion labels of slide i.

    Lesion k of slide i is found at threshold t when some detection with score >= t lies on
    label k. The curve has one point per distinct score, plus the empty point (t = +inf).
    """
    scores, lesion_ids, n_lesions = [], [], 0
    for d, lab in zip(dets, labels, strict=True):
        ids = match(d, lab)
        n = int(lab.max()) if lab.size else 0
        scores.append(d[:, 2] if len(d) else np.zeros(0))
        # a global lesion id per slide (0 = false positive)
        lesion_ids.append(np.where(ids > 0, ids + n_lesions, 0))
        n_lesions += n
    s = np.concatenate(scores) if scores else np.zeros(0)
    ids = np.concatenate(lesion_ids) if lesion_ids else np.zeros(0, int)
    order = np.argsort(-s, kind="stable")
    s, ids = s[order], ids[order]
    thresholds, sens, fps = [np.inf], [0.0], [0.0]
    found: set[int] = set()
    fp = 0
    for j in range(len(s)):
        if ids[j] > 0:
            found.add(int(ids[j]))
        else:
            fp += 1
        if j + 1 < len(s) and s[j + 1] == s[j]:
            continue  # ties enter together
        thresholds.append(float(s[j]))
        sens.append(len(found) / max(n_lesions, 1))
        fps.append(fp / max(len(dets), 1))
    return Froc(np.array(thresholds), np.array(sens), np.array(fps), n_lesions, len(dets))


def evaluate(dets: list[np.ndarray], labels: list[np.ndarray],
             threshold: float) -> tuple[float, float, np.ndarray]:
    """Sensitivity, average FPs per slide and per-lesion found flags at one threshold."""
    found, fp, total = [], 0, 0
    for d, lab in zip(dets, labels, strict=True):
        keep = d[d[:, 2] >= threshold] if len(d) else d
        ids = match(keep, lab)
        n = int(lab.max()) if lab.size else 0
        found.append(np.isin(np.arange(1, n + 1), ids))
        fp += int((ids == 0).sum())
        total += n
    flags = np.concatenate(found) if found else np.zeros(0, bool)
    return float(flags.mean()) if total else 0.0, fp / max(len(dets), 1), flags
