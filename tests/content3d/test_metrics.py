"""Chamfer distance, F-score, voxel IoU and normal consistency against scipy and hand cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from introdl.content3d import metrics
from introdl.content3d.metrics import chamfer_distance, fscore, normal_consistency, voxel_iou


def _clouds(seed: int, n: int = 700, m: int = 500):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=(m, 3)) * 0.8 + 0.3


def test_chamfer_matches_a_kdtree_and_is_symmetric(monkeypatch):
    a, b = _clouds(0)
    da, _ = cKDTree(b).query(a)
    db, _ = cKDTree(a).query(b)
    expected = (da ** 2).mean() + (db ** 2).mean()
    got = chamfer_distance(torch.tensor(a), torch.tensor(b))
    assert got.ndim == 0 and got.dtype == torch.float32
    assert abs(got.item() - expected) < 1e-5 * expected
    assert abs(chamfer_distance(torch.tensor(b), torch.tensor(a)).item() - got.item()) < 1e-7
    monkeypatch.setattr(metrics, "CHUNK", 7)  # many chunks: same answer
    assert abs(chamfer_distance(torch.tensor(a), torch.tensor(b)).item() - got.item()) < 1e-6


def test_identical_clouds_score_perfectly_and_a_shift_is_measured():
    a, _ = _clouds(1)
    t = torch.tensor(a)
    assert chamfer_distance(t, t).item() == 0.0
    assert fscore(t, t, 0.01) == 1.0
    shifted = t + torch.tensor([0.0, 0.0, 0.5])
    assert chamfer_distance(t, shifted).item() > 0.01
    assert fscore(t, shifted, 0.01) < 0.2


def test_fscore_hand_case():
    a = torch.tensor([[0.0, 0, 0], [1, 0, 0]])
    b = torch.tensor([[0.0, 0, 0.05], [5, 0, 0], [6, 0, 0], [7, 0, 0]])
    p, r = metrics.precision_recall(a, b, 0.1)
    assert p == 0.5 and r == 0.25  # one of a is near b; one of four of b is near a
    assert abs(fscore(a, b, 0.1) - 2 * 0.5 * 0.25 / 0.75) < 1e-12
    assert fscore(a, b, 0.01) == 0.0  # nothing is that close
    assert fscore(a, b, 10.0) == 1.0
    with pytest.raises(ValueError):
        fscore(a, b, 0.0)


def test_voxel_iou_hand_case():
    a = torch.zeros(4, 4, 4, dtype=torch.bool)
    b = a.clone()
    a[0, :2] = True  # 8 voxels
    b[0, 1:3] = True  # 8 voxels, 4 shared
    assert voxel_iou(a, b) == 4 / 12
    assert voxel_iou(a, a) == 1.0
    assert voxel_iou(torch.zeros(2, 2, 2), torch.zeros(2, 2, 2)) == 1.0
    with pytest.raises(ValueError):
        voxel_iou(a, torch.zeros(3, 3, 3, dtype=torch.bool))


def test_normal_consistency_ignores_orientation_and_sees_tilt():
    a, _ = _clouds(2, 300, 10)
    t = torch.tensor(a)
    n = torch.nn.functional.normalize(torch.tensor(np.random.default_rng(3).normal(size=a.shape)),
                                      dim=1)
    assert abs(normal_consistency(t, n, t, n) - 1.0) < 1e-12
    assert abs(normal_consistency(t, n, t, -n) - 1.0) < 1e-12
    z = torch.tensor([[0.0, 0, 1]]).expand(300, 3)
    x = torch.tensor([[1.0, 0, 0]]).expand(300, 3)
    assert normal_consistency(t, z, t, x) < 1e-12
    tilt = torch.tensor([[0.0, np.sin(0.5), np.cos(0.5)]]).expand(300, 3)
    assert abs(normal_consistency(t, z, t, tilt) - np.cos(0.5)) < 1e-9


def test_compare_clouds_agrees_with_the_separate_metrics():
    a, b = _clouds(4, 400, 300)
    rng = np.random.default_rng(5)
    na, nb = torch.tensor(rng.normal(size=a.shape)), torch.tensor(rng.normal(size=b.shape))
    ta, tb = torch.tensor(a), torch.tensor(b)
    got = metrics.compare_clouds(ta, na, tb, nb, 0.3)
    assert got["chamfer"] == pytest.approx(chamfer_distance(ta, tb).item(), rel=1e-6)
    assert got["fscore"] == fscore(ta, tb, 0.3) and 0 < got["fscore"] < 1
    assert got["normal_consistency"] == pytest.approx(normal_consistency(ta, na, tb, nb))
