"""The procedural car generator: deterministic, in the unit sphere, parameters do what they say."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh
from scipy.spatial import Delaunay

from introdl.content3d.cars import CarPrior, car_voxels, make_car, make_cars, occupancy


def test_same_seed_same_car_and_other_seeds_differ():
    a, b, c = make_car(3), make_car(3), make_car(4)
    assert torch.equal(a.verts, b.verts) and torch.equal(a.colors, b.colors)
    assert not torch.equal(a.verts, c.verts)
    cars = make_cars(5, seed=0)
    assert torch.equal(make_cars(3, seed=0)[2].verts, cars[2].verts)  # stable prefix
    assert a.faces.dtype == torch.int64 and a.verts.dtype == torch.float32
    assert a.faces.max() < len(a.verts) and a.colors.shape == a.verts.shape


def test_cars_fit_in_the_unit_sphere_and_are_centred():
    for car in make_cars(40, seed=1):
        assert car.verts.norm(dim=1).max() < 1.0
        lo, hi = car.verts.min(0).values, car.verts.max(0).values
        assert torch.allclose((lo + hi) / 2, torch.zeros(3), atol=1e-5)


def test_stated_parameters_set_the_shape():
    prior = CarPrior(length=(1.5, 1.5), width=(0.6, 0.6), scale=(1.0, 1.0))
    car = make_car(0, prior)
    ext = car.verts.max(0).values - car.verts.min(0).values
    assert abs(float(ext[0]) - 1.5) < 1e-5 and abs(float(ext[2]) - 0.6) < 1e-5
    tall = make_car(0, CarPrior(cabin_height=(0.3, 0.3), scale=(1.0, 1.0)))
    flat = make_car(0, CarPrior(cabin_height=(0.12, 0.12), scale=(1.0, 1.0)))
    h = lambda c: float(c.verts[:, 1].max() - c.verts[:, 1].min())  # noqa: E731
    assert h(tall) - h(flat) == pytest.approx(0.18, abs=1e-5)
    half = make_car(0, CarPrior(length=(1.5, 1.5), width=(0.6, 0.6), scale=(0.5, 0.5)))
    assert float(half.verts[:, 0].max() - half.verts[:, 0].min()) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        CarPrior(length=(2.0, 1.0))


def test_analytic_occupancy_matches_the_parts_convex_hulls():
    """Each part is convex: scipy's Delaunay of its trimesh vertices decides inside/outside."""
    car = make_car(7)
    pts = np.random.default_rng(0).uniform(-0.9, 0.9, size=(3000, 3))
    ours = occupancy(car, pts)
    from introdl.content3d.cars import _part_mesh

    theirs = np.zeros(len(pts), dtype=bool)
    for part in car.parts:
        mesh = _part_mesh(part)
        if hasattr(part, "radius"):  # a 12-gon cylinder: skip points near its curved rim
            d = np.hypot(pts[:, 0] - part.centre[0], pts[:, 1] - part.centre[1])
            near = np.abs(d - part.radius) < 0.02 * part.radius + 0.01
            pts_ok = ~near
        else:
            pts_ok = np.ones(len(pts), dtype=bool)
        inside = Delaunay(np.asarray(mesh.vertices)).find_simplex(pts) >= 0
        theirs |= inside & pts_ok
        ours_part = occupancy(type(car)(car.verts, car.faces, car.colors, car.params, [part]), pts)
        assert np.array_equal(ours_part[pts_ok], inside[pts_ok])
    assert ours.mean() > 0.02
    vox = car_voxels(car, 16)
    assert vox.shape == (16, 16, 16) and vox.dtype == torch.bool
    assert 0.02 < float(vox.float().mean()) < 0.5
    assert isinstance(trimesh.creation.box(), trimesh.Trimesh)


def test_surface_points_lie_on_the_outer_surface():
    from introdl.content3d.cars import surface_points

    car = make_car(2)
    pts = surface_points(car, 500, seed=0)
    assert pts.shape == (500, 3) and torch.equal(pts, surface_points(car, 500, seed=0))
    steps = np.concatenate([np.eye(3), -np.eye(3)]) * 1e-3
    near = np.stack([occupancy(car, pts.numpy() + s) for s in steps], axis=1)
    assert near.any(1).mean() > 0.99 and (~near).any(1).mean() > 0.99  # on the boundary
    body = car.parts[0]  # no point on a wheel's face hidden inside the body
    inside_body = np.all(np.abs(pts.numpy() - body.centre) < body.extents / 2 - 1e-3, axis=1)
    assert not inside_body.any()
