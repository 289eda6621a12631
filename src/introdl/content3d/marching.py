"""Voxel occupancy or a signed distance grid back to a triangle mesh: marching cubes.

The surface extraction is scikit-image's ``measure.marching_cubes`` (Lewiner et al.
2003); this module only maps grids over [-1,1]^3 (voxel ``i`` centred at
``-1 + (i + 1/2) 2/R``, as in :mod:`introdl.content3d.voxels`) to and from world units and
makes sure the result is a closed surface with outward normals.

A boolean grid is a step function: the 0.5 level set of the raw occupancy is a staircase
whose faces sit half-way between occupied and empty voxel centres. ``smooth`` (a Gaussian
blur of ``smooth`` voxels before extraction) rounds the steps off; it is the only knob.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from skimage import measure
from torch import Tensor


def _extract(volume: np.ndarray, level: float, inside_high: bool) -> tuple[Tensor, Tensor]:
    r = volume.shape[0]
    if volume.shape != (r, r, r):
        raise ValueError(f"need a cubic (R,R,R) grid, got {volume.shape}")
    if not (volume.min() < level < volume.max()):
        raise ValueError(f"the grid never crosses level {level}: no surface to extract")
    h = 2.0 / r
    verts, faces, _, _ = measure.marching_cubes(
        volume, level=level, spacing=(h, h, h),
        gradient_direction="ascent" if inside_high else "descent")
    verts = verts - 1.0 + h / 2.0  # grid index 0 is the first voxel centre
    return (torch.from_numpy(np.ascontiguousarray(verts, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(faces, dtype=np.int64)))


def occupancy_to_mesh(occupancy: Tensor, smooth: float = 0.0) -> tuple[Tensor, Tensor]:
    """Closed mesh ``(verts (V,3) float32, faces (F,3) int64)`` around the occupied voxels.

    The grid is padded with one empty voxel on every side first, so shapes that touch the
    cube's faces are closed too. ``smooth`` is the Gaussian blur (in voxels) applied before
    taking the 0.5 level set; 0 gives the staircase.
    """
    occ = torch.as_tensor(occupancy).detach().cpu().numpy().astype(np.float32)
    r = occ.shape[0]
    pad = 1 + int(np.ceil(3 * smooth))
    vol = np.pad(occ, pad)
    if smooth > 0:
        vol = ndimage.gaussian_filter(vol, smooth, mode="constant")
    verts, faces = _extract(vol, 0.5, inside_high=True)
    # the padded grid has R + 2 pad voxels of the same size: undo the shift and the rescale
    scale = (r + 2 * pad) / r
    return verts * scale, faces


def sdf_to_mesh(sdf: Tensor, level: float = 0.0) -> tuple[Tensor, Tensor]:
    """Mesh of the ``level`` set of a signed distance grid (negative inside) over [-1,1]^3."""
    vol = torch.as_tensor(sdf).detach().cpu().numpy().astype(np.float32)
    return _extract(vol, level, inside_high=False)


def voxels_to_cubes(occupancy: Tensor) -> tuple[Tensor, Tensor]:
    """The occupied voxels drawn as cubes: one quad (two triangles) per exposed voxel face.

    Every quad has its own four vertices, so renderers that interpolate vertex normals
    still shade each face flat (the blocky look of a voxel grid). Faces wind outwards.
    """
    occ = np.pad(torch.as_tensor(occupancy).detach().cpu().numpy().astype(bool), 1)
    h = 2.0 / (occ.shape[0] - 2)  # the grid spans [-1, 1]
    quads = []
    for axis in range(3):
        u, v = [d for d in range(3) if d != axis]
        for sign in (1, -1):
            exposed = occ & ~np.roll(occ, -sign, axis=axis)  # neighbour on the `sign` side empty
            idx = np.argwhere(exposed[1:-1, 1:-1, 1:-1]).astype(np.float64)
            lo = -1.0 + idx * h  # the voxel's min corner
            corners = np.repeat(lo[:, None, :], 4, axis=1)
            corners[:, :, axis] += h if sign > 0 else 0.0
            du, dv = np.zeros(3), np.zeros(3)
            du[u], dv[v] = h, h
            # counter-clockwise seen from outside: u-then-v is right-handed for +axis
            order = [0, du, du + dv, dv] if sign > 0 else [0, dv, du + dv, du]
            corners += np.stack([np.broadcast_to(o, 3) for o in order])[None]
            quads.append(corners)
    q = np.concatenate(quads) if quads else np.zeros((0, 4, 3))
    if len(q) == 0:
        raise ValueError("the grid is empty: no voxels to draw")
    base = np.arange(len(q))[:, None] * 4
    faces = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]])
    return (torch.from_numpy(q.reshape(-1, 3).astype(np.float32)),
            torch.from_numpy(faces.astype(np.int64)))
