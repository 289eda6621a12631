"""FROC on hand examples whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from introdl.health.froc import detections, evaluate, froc, hit_labels, match


def _labels() -> np.ndarray:
    lab = np.zeros((100, 100), np.int32)
    lab[10:20, 10:20] = 1  # lesion 1
    lab[50:60, 50:60] = 2  # lesion 2
    return lab


def test_froc_counts_one_hit_per_lesion_and_no_fp_inside_lesions():
    # slide A: two lesions; slide B: none
    a = np.array([[15, 15, 0.9], [12, 12, 0.8],  # both in lesion 1 (second is not an FP)
                  [80, 80, 0.7],  # FP
                  [55, 55, 0.4]])  # lesion 2
    b = np.array([[30, 30, 0.6], [70, 10, 0.3]])  # two FPs
    c = froc([a, b], [_labels(), np.zeros((100, 100), np.int32)])
    assert c.n_lesions == 2 and c.n_slides == 2
    # thresholds: inf, .9, .8, .7, .6, .4, .3
    np.testing.assert_allclose(c.sensitivity, [0, .5, .5, .5, .5, 1, 1])
    np.testing.assert_allclose(c.fps_per_slide, [0, 0, 0, .5, 1, 1, 1.5])
    assert c.sensitivity_at(0) == 0.5
    assert c.sensitivity_at(1) == 1.0
    assert c.sensitivity_at(0.5) == 0.5
    assert c.threshold_for_fps(1.0) == pytest.approx(0.4)
    assert c.threshold_for_fps(0.0) == pytest.approx(0.8)
    assert c.threshold_for_sensitivity(1.0) == pytest.approx(0.4)
    sens, fps, flags = evaluate([a, b], [_labels(), np.zeros((100, 100), np.int32)], 0.5)
    assert sens == 0.5 and fps == pytest.approx(1.0) and flags.tolist() == [True, False]


def test_ties_enter_together_and_empty_slides_count():
    a = np.array([[15, 15, 0.5], [80, 80, 0.5]])
    c = froc([a, np.zeros((0, 3))], [_labels(), np.zeros((100, 100), np.int32)])
    np.testing.assert_allclose(c.sensitivity, [0, 0.5])
    np.testing.assert_allclose(c.fps_per_slide, [0, 0.5])


def test_tolerance_grows_lesions_and_match_reads_labels():
    lab = _labels()
    d = np.array([[22, 15, 1.0]])  # 2 px below lesion 1
    assert match(d, lab).tolist() == [0]
    assert match(d, hit_labels(lab, 3)).tolist() == [1]


def test_detections_are_local_maxima_in_slide_pixels_best_first():
    heat = np.zeros((20, 20))
    heat[3, 4] = 0.9
    heat[15, 12] = 0.6
    heat[15, 13] = 0.5  # a shoulder of the same peak, merged
    d = detections(heat, stride=16, min_score=0.1, min_distance=2)
    np.testing.assert_allclose(d, [[3 * 16 + 8, 4 * 16 + 8, 0.9], [15 * 16 + 8, 12 * 16 + 8, 0.6]])
