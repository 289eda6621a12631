"""Distances between 3D shapes: Chamfer distance, F-score, voxel IoU and normal consistency.

Point clouds are compared through nearest neighbours (``torch.cdist`` in chunks, so memory
stays at ``chunk x M`` floats whatever the cloud sizes):

- Chamfer distance: mean squared distance from each point of ``a`` to its nearest point of
  ``b``, plus the same from ``b`` to ``a`` (the common "L2 Chamfer"; 0 only when every point
  has an exact twin in the other cloud).
- F-score at ``t`` (Tatarchenko et al. 2019, "What do single-view 3D reconstruction networks
  learn?"): precision = share of ``a`` within ``t`` (Euclidean) of ``b``, recall = share of
  ``b`` within ``t`` of ``a``, F = 2PR / (P + R). Unlike Chamfer it is not dominated by a few
  far outliers.
- Normal consistency: mean ``|n_a . n_b|`` over nearest-neighbour pairs, both ways
  (orientation-free, 1 for matching surfaces).
- Voxel IoU: |A and B| / |A or B| of two occupancy grids of the same shape.
"""

from __future__ import annotations

import torch
from torch import Tensor

CHUNK = 1024  # rows of a per cdist call (1024 x 20000 floats = 80 MB)


def _points(x) -> Tensor:
    x = torch.as_tensor(x).detach().to(torch.float64)
    if x.ndim != 2 or x.shape[1] != 3 or len(x) == 0:
        raise ValueError(f"need a non-empty (N,3) point cloud, got shape {tuple(x.shape)}")
    return x


def nearest(a: Tensor, b: Tensor, chunk: int | None = None) -> tuple[Tensor, Tensor]:
    """For each point of ``a``: Euclidean distance to, and index of, its nearest point in ``b``.

    The search runs in float32 (``torch.cdist``, ``chunk`` rows at a time); the distance to
    the neighbour found is then recomputed exactly in float64, so identical clouds give 0.
    """
    a, b = _points(a), _points(b)
    chunk = chunk or CHUNK
    a32, b32 = a.float(), b.float()
    idx = torch.cat([torch.cdist(a32[i:i + chunk], b32).argmin(dim=1)
                     for i in range(0, len(a), chunk)])
    return (a - b[idx]).norm(dim=1), idx


def chamfer_distance(a: Tensor, b: Tensor) -> Tensor:
    """Mean squared nearest-neighbour distance a -> b plus b -> a; a 0-dim float32 tensor.

    An evaluation metric: inputs are detached, so no gradient flows through it.
    """
    da, _ = nearest(a, b)
    db, _ = nearest(b, a)
    return ((da ** 2).mean() + (db ** 2).mean()).to(torch.float32)


def precision_recall(a: Tensor, b: Tensor, threshold: float) -> tuple[float, float]:
    """Share of ``a`` within ``threshold`` of ``b`` (precision); of ``b`` near ``a`` (recall)."""
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    da, _ = nearest(a, b)
    db, _ = nearest(b, a)
    return float((da <= threshold).double().mean()), float((db <= threshold).double().mean())


def fscore(a: Tensor, b: Tensor, threshold: float) -> float:
    """F-score at ``threshold``: harmonic mean of precision and recall (0 when both are 0)."""
    p, r = precision_recall(a, b, threshold)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def compare_clouds(a: Tensor, normals_a: Tensor, b: Tensor, normals_b: Tensor,
                   threshold: float) -> dict[str, float]:
    """Chamfer distance, precision, recall, F-score at ``threshold`` and normal consistency
    of two oriented clouds from one nearest-neighbour search each way (what the separate
    functions compute, at half the cost)."""
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    da, ia = nearest(a, b)
    db, ib = nearest(b, a)
    p, r = float((da <= threshold).double().mean()), float((db <= threshold).double().mean())
    na = torch.nn.functional.normalize(torch.as_tensor(normals_a).double(), dim=1)
    nb = torch.nn.functional.normalize(torch.as_tensor(normals_b).double(), dim=1)
    nc = 0.5 * ((na * nb[ia]).sum(1).abs().mean() + (nb * na[ib]).sum(1).abs().mean())
    return {"chamfer": float((da ** 2).mean() + (db ** 2).mean()), "precision": p, "recall": r,
            "fscore": 0.0 if p + r == 0 else 2 * p * r / (p + r), "normal_consistency": float(nc)}


def voxel_iou(a: Tensor, b: Tensor) -> float:
    """Intersection over union of two same-shape boolean occupancy grids (1 if both empty)."""
    a, b = torch.as_tensor(a).bool(), torch.as_tensor(b).bool()
    if a.shape != b.shape:
        raise ValueError(f"grids differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    union = (a | b).sum().item()
    return 1.0 if union == 0 else (a & b).sum().item() / union


def normal_consistency(a: Tensor, normals_a: Tensor, b: Tensor, normals_b: Tensor) -> float:
    """Mean ``|n . n'|`` between each point's normal and its nearest neighbour's, averaged
    over both directions; in [0, 1], 1 when the surfaces' tangent planes agree everywhere."""
    na = torch.nn.functional.normalize(torch.as_tensor(normals_a).double(), dim=1)
    nb = torch.nn.functional.normalize(torch.as_tensor(normals_b).double(), dim=1)
    _, ia = nearest(a, b)
    _, ib = nearest(b, a)
    ab = (na * nb[ia]).sum(1).abs().mean()
    ba = (nb * na[ib]).sum(1).abs().mean()
    return float(0.5 * (ab + ba))
