"""Solid voxelization by ray parity: volume against trimesh, analytic shapes, point clouds."""

from __future__ import annotations

import numpy as np
import pybullet_data
import pytest
import torch
import trimesh

from introdl.content3d.metrics import voxel_iou
from introdl.content3d.sampling import sample_surface
from introdl.content3d.voxels import grid_centers, points_to_voxels, voxel_volume, voxelize


def _rel_err(mesh, r):
    return abs(voxel_volume(voxelize(mesh.vertices, mesh.faces, r)) - mesh.volume) / mesh.volume


@pytest.mark.parametrize("make", [
    lambda: trimesh.creation.torus(0.6, 0.25),
    lambda: trimesh.creation.icosphere(3, radius=0.8),
    lambda: trimesh.load(f"{pybullet_data.getDataPath()}/bunny.obj", force="mesh"),
])
def test_voxel_volume_approaches_trimesh_volume(make):
    mesh = make()
    mesh.apply_translation(-mesh.bounding_box.centroid)
    mesh.apply_scale(1.8 / mesh.extents.max())
    assert mesh.is_watertight
    errs = [_rel_err(mesh, r) for r in (8, 16, 64)]
    assert errs[-1] < 0.02
    assert errs[-1] < errs[0]


def test_sphere_voxels_are_the_centres_inside_it():
    mesh = trimesh.creation.icosphere(4, radius=0.75)
    occ = voxelize(torch.tensor(mesh.vertices), torch.tensor(mesh.faces), 24).numpy()
    c = grid_centers(24)
    r = np.sqrt(c[:, None, None] ** 2 + c[None, :, None] ** 2 + c[None, None, :] ** 2)
    sure = np.abs(r - 0.75) > 0.01  # away from the (faceted) surface
    assert np.array_equal(occ[sure], (r < 0.75)[sure])
    assert occ.shape == (24, 24, 24) and occ.dtype == np.bool_


def test_axis_aligned_box_is_exact_and_index_order_is_xyz():
    mesh = trimesh.creation.box((1.0, 0.5, 1.5))  # faces on voxel boundaries at R = 8
    occ = voxelize(mesh.vertices, mesh.faces, 8)
    assert voxel_volume(occ) == pytest.approx(0.75)
    assert occ.sum(dim=(1, 2)).tolist() == [0, 0, 12, 12, 12, 12, 0, 0]  # 4 x-slabs of 2 x 6
    assert occ.any(dim=0).any(dim=1).sum() == 2  # y extent 0.5
    assert occ.any(dim=0).any(dim=0).sum() == 6  # z extent 1.5


def test_a_small_hole_is_outvoted():
    mesh = trimesh.creation.icosphere(3, radius=0.8)
    holed = mesh.faces[1:]  # one face missing: no longer watertight
    a = voxelize(mesh.vertices, mesh.faces, 32)
    b = voxelize(mesh.vertices, holed, 32)
    assert (a ^ b).sum() <= 4


def test_points_fill_to_the_solid():
    mesh = trimesh.creation.icosphere(3, radius=0.8)
    pts, _ = sample_surface(mesh.vertices, mesh.faces, 30000, 0)
    solid = voxelize(mesh.vertices, mesh.faces, 32)
    filled = points_to_voxels(pts, 32)
    shell = points_to_voxels(pts, 32, fill=False)
    assert (solid & ~filled).sum() == 0  # every inside voxel is filled
    assert filled.sum() > 2 * shell.sum() > 0
    assert (filled & ~solid).sum() <= shell.sum()  # extra voxels are all on the surface


def test_normals_trim_the_shell_to_the_solid():
    mesh = trimesh.creation.torus(0.6, 0.25)
    pts, nrm = sample_surface(mesh.vertices, mesh.faces, 60000, 1)
    solid = voxelize(mesh.vertices, mesh.faces, 32)
    plain = points_to_voxels(pts, 32)
    trimmed = points_to_voxels(pts, 32, normals=nrm)
    assert voxel_iou(trimmed, solid) > 0.93
    assert voxel_iou(trimmed, solid) > voxel_iou(plain, solid) + 0.1
    assert voxel_iou(points_to_voxels(pts, 32, normals=-nrm), solid) < voxel_iou(plain, solid)
