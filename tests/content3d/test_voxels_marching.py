"""Marching cubes (scikit-image) from occupancy and SDF grids back to closed meshes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from introdl.content3d.marching import occupancy_to_mesh, sdf_to_mesh, voxels_to_cubes
from introdl.content3d.voxels import grid_centers, voxel_volume, voxelize


def test_sdf_sphere_comes_back_round_and_outward():
    c = grid_centers(32)
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    sdf = torch.tensor(np.sqrt(x ** 2 + y ** 2 + (z - 0.2) ** 2) - 0.5)
    v, f = sdf_to_mesh(sdf)
    radius = np.linalg.norm(v.numpy() - [0, 0, 0.2], axis=1)
    assert np.abs(radius - 0.5).max() < 0.01  # world units, not grid units
    mesh = trimesh.Trimesh(v.numpy(), f.numpy())
    assert mesh.is_watertight
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * 0.125, rel=0.02)  # > 0: outward


@pytest.mark.parametrize("smooth", [0.0, 0.5])
def test_occupancy_round_trip_keeps_volume_and_closes_at_the_border(smooth):
    src = trimesh.creation.torus(0.6, 0.25)
    occ = voxelize(src.vertices, src.faces, 32)
    v, f = occupancy_to_mesh(occ, smooth)
    mesh = trimesh.Trimesh(v.numpy(), f.numpy())
    assert mesh.is_watertight and mesh.volume > 0
    assert mesh.volume == pytest.approx(voxel_volume(occ), rel=0.05)
    assert np.allclose(mesh.bounds, src.bounds, atol=2 / 32)
    again = voxelize(v, f, 32)  # the extracted surface holds the same voxel centres
    assert (again ^ occ).sum() <= 0.02 * occ.sum()
    full = torch.ones(8, 8, 8, dtype=torch.bool)  # touches every face of the cube
    box = trimesh.Trimesh(*[t.numpy() for t in occupancy_to_mesh(full, smooth)])
    assert box.is_watertight and np.abs(box.vertices).max() <= 1.0 + 1e-6


def test_empty_grid_is_a_clear_error():
    with pytest.raises(ValueError, match="no surface"):
        occupancy_to_mesh(torch.zeros(8, 8, 8, dtype=torch.bool))


def test_voxel_cubes_enclose_exactly_the_voxel_volume():
    src = trimesh.creation.torus(0.6, 0.25)
    occ = voxelize(src.vertices, src.faces, 12)
    v, f = voxels_to_cubes(occ)
    mesh = trimesh.Trimesh(v.numpy(), f.numpy())  # merges the per-quad vertices
    assert mesh.is_watertight
    assert mesh.volume == pytest.approx(voxel_volume(occ), rel=1e-6)  # > 0: outward (float32)
    assert len(f) % 2 == 0 and len(v) == 2 * len(f)  # 4 own vertices per 2-triangle quad
    one = torch.zeros(4, 4, 4, dtype=torch.bool)
    one[1, 2, 3] = True
    v1, f1 = voxels_to_cubes(one)
    assert len(f1) == 12
    assert v1.min(0).values.tolist() == [-0.5, 0.0, 0.5] and v1.max(0).values.tolist() == [
        0.0, 0.5, 1.0]
