"""The look-at camera against Mitsuba's look_at, and projection to NDC on known points."""

import math

import numpy as np
import torch

from introdl.content3d.camera import Camera, look_at, orbit


def test_look_at_is_a_rigid_transform_that_puts_the_target_on_minus_z():
    eye = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 4.0]])
    at = torch.tensor([[0.5, 0.0, -1.0], [0.0, 0.0, 0.0]])
    view = look_at(eye, at)
    rot = view[:, :3, :3]
    assert torch.allclose(rot @ rot.transpose(1, 2), torch.eye(3).expand(2, 3, 3), atol=1e-6)
    assert torch.allclose(torch.linalg.det(rot), torch.ones(2), atol=1e-6)
    cam = Camera(view).to_camera(torch.stack([eye, at], dim=1))
    assert torch.allclose(cam[:, 0], torch.zeros(2, 3), atol=1e-5)  # eye -> origin
    dist = (eye - at).norm(dim=-1)
    assert torch.allclose(cam[:, 1], torch.stack([0 * dist, 0 * dist, -dist], -1), atol=1e-5)


def test_look_at_matches_mitsuba():
    import mitsuba as mi

    mi.set_variant("scalar_rgb")
    eye, at, up = [1.0, 2.0, 3.0], [0.2, -0.1, 0.3], [0.0, 1.0, 0.0]
    ours = look_at(torch.tensor([eye]), torch.tensor([at]), torch.tensor([up]))[0].double()
    theirs = np.array(mi.ScalarTransform4f().look_at(origin=eye, target=at, up=up).matrix)
    # Mitsuba's camera frame looks down +z with x to the left: ours times diag(-1, 1, -1, 1).
    flip = np.diag([-1.0, 1.0, -1.0, 1.0])
    np.testing.assert_allclose(np.linalg.inv(ours.numpy()) @ flip, theirs, atol=1e-5)


def test_orbit_positions():
    eye = orbit(torch.tensor([0.0, 90.0, 0.0]), torch.tensor([0.0, 0.0, 90.0]), 2.0)
    expected = torch.tensor([[0.0, 0.0, 2.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    assert torch.allclose(eye, expected, atol=1e-5)


def test_project_puts_the_field_of_view_edge_on_ndc_one():
    cam = Camera(look_at(torch.tensor([[0.0, 0.0, 5.0]])), fov_deg=60.0)
    half = 3.0 * math.tan(math.radians(30.0))  # at depth 3 the image spans +-half
    pts = torch.tensor([[[0.0, 0.0, 0.0], [half, 0.0, 2.0], [0.0, -half / 2, 2.0]]])
    ndc = cam.project(pts)[0]
    expected = torch.tensor([[0.0, 0.0, 5.0], [1.0, 0.0, 3.0], [0.0, -0.5, 3.0]])
    assert torch.allclose(ndc, expected, atol=1e-5)
