"""Uniform random points on a triangle mesh's surface, with the normal of the face each lies on.

A point is drawn in two steps (the standard recipe, the one trimesh's
``trimesh.sample.sample_surface`` uses too): a face chosen with probability proportional to
its area, then a uniform point in that triangle from barycentric coordinates
``(1 - sqrt(r1), sqrt(r1) (1 - r2), sqrt(r1) r2)`` with ``r1, r2 ~ U(0, 1)``. Together the
points are uniform over the surface area, which is what Chamfer distance and F-score need:
a mesh with many small faces in one place is not over-weighted there.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

Seed = int | np.random.Generator


def _as_numpy(verts, faces) -> tuple[np.ndarray, np.ndarray]:
    v = verts.detach().cpu().numpy() if isinstance(verts, Tensor) else np.asarray(verts)
    f = faces.detach().cpu().numpy() if isinstance(faces, Tensor) else np.asarray(faces)
    if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f"need verts (V,3) and faces (F,3), got {v.shape} and {f.shape}")
    return v.astype(np.float64), f.astype(np.int64)


def face_areas(verts: Tensor, faces: Tensor) -> Tensor:
    """Area of every face, shape (F,) float64 (half the norm of the edge cross product)."""
    v, f = _as_numpy(verts, faces)
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return torch.from_numpy(0.5 * np.linalg.norm(cross, axis=1))


def face_normals(verts: Tensor, faces: Tensor) -> Tensor:
    """Unit normal of every face (right-hand rule over its vertex order), shape (F,3) float32.

    A degenerate (zero-area) face gets a zero normal; area weighting never samples it.
    """
    v, f = _as_numpy(verts, faces)
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norm = np.linalg.norm(cross, axis=1, keepdims=True)
    return torch.from_numpy(np.where(norm > 0, cross / np.maximum(norm, 1e-300), 0.0)
                            .astype(np.float32))


def sample_surface(verts: Tensor, faces: Tensor, n: int, seed: Seed = 0,
                   return_faces: bool = False):
    """``n`` points uniform over the mesh surface and the unit normals of their faces.

    Args:
        verts: (V,3) vertex positions (tensor or array).
        faces: (F,3) vertex indices.
        n: number of points.
        seed: an int or a ``numpy.random.Generator``; the same seed gives the same points.
        return_faces: also return the (n,) index of the face each point lies on.

    Returns:
        ``(points (n,3), normals (n,3))`` float32 tensors (and ``faces (n,)`` int64 if asked).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    v, f = _as_numpy(verts, faces)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    area = face_areas(v, f).numpy()
    total = area.sum()
    if not total > 0:
        raise ValueError("the mesh has zero surface area: nothing to sample")
    idx = rng.choice(len(f), size=n, p=area / total)
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    bary = np.stack([1.0 - s, s * (1.0 - r2), s * r2], axis=1)
    tri = v[f[idx]]
    points = torch.from_numpy(np.einsum("nk,nkd->nd", bary, tri).astype(np.float32))
    normals = face_normals(v, f)[torch.from_numpy(idx)]
    if return_faces:
        return points, normals, torch.from_numpy(idx)
    return points, normals
