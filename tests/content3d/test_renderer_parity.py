"""Hard silhouette and depth against Mitsuba 3 (scalar_rgb ray tracing) on the same scene.

Mitsuba is a dependency of the project, so these tests are never skipped.
"""

import os

import pybullet_data
import pytest
import torch
import trimesh

from introdl.content3d.camera import Camera, look_at, orbit
from introdl.content3d.raster import rasterize
from introdl.content3d.reference import mitsuba_render

SIZE = 64
CAMERAS = [(30.0, 20.0, 3.0, 40.0), (-120.0, -35.0, 2.6, 55.0)]  # azimuth, elevation, dist, fov


def icosphere():
    m = trimesh.creation.icosphere(subdivisions=3)
    v = torch.tensor(m.vertices, dtype=torch.float32)
    return v * torch.tensor([1.0, 0.7, 0.85]), torch.tensor(m.faces, dtype=torch.long)


def duck():
    m = trimesh.load(os.path.join(pybullet_data.getDataPath(), "duck.obj"), force="mesh")
    v = torch.tensor(m.vertices, dtype=torch.float32)
    v = v - (v.max(0).values + v.min(0).values) / 2
    return v / v.norm(dim=1).max(), torch.tensor(m.faces, dtype=torch.long)


def compare(verts, faces, azimuth, elevation, distance, fov):
    eye = orbit(torch.tensor([azimuth]), torch.tensor([elevation]), distance)
    cam = Camera(look_at(eye, up=torch.tensor([[0.0, 1.0, 0.0]])), fov_deg=fov)
    frags = rasterize(cam.project(verts[None]), faces, SIZE)
    mask, depth = frags.mask[0], frags.depth[0]
    ref_mask, ref_depth = mitsuba_render(verts, faces, cam.view[0], fov, SIZE)
    both = mask & ref_mask
    mask_diff = (mask != ref_mask).float().mean().item()
    depth_bad = ((depth - ref_depth).abs() > 1e-3 * ref_depth)[both].float().sum().item()
    return mask_diff, depth_bad / mask.numel(), ref_mask.float().mean().item()


@pytest.mark.parametrize("mesh", [icosphere, duck], ids=["icosphere", "duck"])
@pytest.mark.parametrize("view", CAMERAS, ids=["front", "below"])
def test_silhouette_and_depth_match_mitsuba(mesh, view):
    verts, faces = mesh()
    mask_diff, depth_bad, coverage = compare(verts, faces, *view)
    assert coverage > 0.1  # the object fills a fair part of the image
    assert mask_diff <= 0.01, f"{mask_diff:.2%} of pixels differ in the hard silhouette"
    assert depth_bad <= 0.01, f"{depth_bad:.2%} of pixels differ in depth by more than 0.1%"


def test_parity_check_can_fail():
    # The same comparison with a camera aimed 0.1 units off must see many differing pixels.
    verts, faces = icosphere()
    eye = orbit(torch.tensor([30.0]), torch.tensor([20.0]), 3.0)
    cam = Camera(look_at(eye), fov_deg=40.0)
    moved = Camera(look_at(eye, torch.tensor([[0.1, 0.0, 0.0]])), fov_deg=40.0)
    ours = rasterize(cam.project(verts[None]), faces, SIZE).mask[0]
    ref, _ = mitsuba_render(verts, faces, moved.view[0], 40.0, SIZE)
    assert (ours != ref).float().mean() > 0.01
