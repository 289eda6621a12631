"""The scene renderer: shapes, determinism, ground truth, and depth checked against Mitsuba."""

from __future__ import annotations

import math

import numpy as np
import pytest

from introdl.worlds.grammar import GrammarParams, sample_scene
from introdl.worlds.scene_graph import Node
from introdl.worlds.scene_render import CLASS_ID, CLASSES, _camera, render_scene


def _scene(cars: list[dict], n_lanes: int = 2, pitch: float = 0.1, height: float = 1.6) -> Node:
    root = Node("scene", {"camera_height": height, "camera_pitch": pitch})
    road = root.add(Node("road", {"n_lanes": float(n_lanes), "width": 3.5 * n_lanes}))
    lane = road.add(Node("lane", {"index": 0.0, "x": 0.0, "width": 3.5}))
    for c in cars:
        a = {"x": 0.0, "z": 12.0, "heading": 0.0, "width": 1.8, "length": 4.4, "height": 1.5,
             "r": 0.8, "g": 0.1, "b": 0.1} | c
        lane.add(Node("car", a))
    return root


def test_shapes_types_and_determinism():
    s = sample_scene(GrammarParams.real(), 0)
    r, r2 = render_scene(s, 48), render_scene(s, 48)
    assert r.image.shape == (3, 48, 48) and r.image.dtype == np.float32
    assert 0 <= r.image.min() and r.image.max() <= 1
    assert r.segmentation.shape == (48, 48) and r.segmentation.dtype == np.int64
    assert r.depth.dtype == np.float32 and r.boxes.dtype == np.float32
    assert r.labels.dtype == np.int64 and len(r.boxes) == len(r.labels)
    assert set(np.unique(r.segmentation)) <= set(range(len(CLASSES)))
    for a, b in ((r.image, r2.image), (r.segmentation, r2.segmentation), (r.boxes, r2.boxes)):
        assert np.array_equal(a, b)


def test_empty_road_has_sky_above_road_below_and_no_boxes():
    r = render_scene(_scene([], n_lanes=1), 64)
    assert len(r.boxes) == 0
    assert (r.segmentation[0] == CLASS_ID["sky"]).all() and np.isinf(r.depth[0]).all()
    assert r.segmentation[-1, 32] == CLASS_ID["road"]
    # the bottom centre pixel's depth is where its ray meets the ground (pinhole geometry)
    cam = _camera(_scene([]), 64)
    ray = cam.rays[-1, 32]
    assert r.depth[-1, 32] == pytest.approx(1.6 / -ray[1], rel=1e-5)


def test_one_car_box_segmentation_and_depth():
    r = render_scene(_scene([{"z": 12.0}]), 64)
    assert r.labels.tolist() == [CLASS_ID["car"]]
    ys, xs = np.nonzero(r.segmentation == CLASS_ID["car"])
    x0, y0, x1, y1 = r.boxes[0]
    assert x0 <= xs.min() and xs.max() + 1 <= x1 + 1e-4 and y0 <= ys.min()
    assert ys.max() + 1 <= y1 + 1e-4
    assert abs(x0 - xs.min()) < 1 and abs(x1 - xs.max() - 1) < 1  # tight box
    # the visible rear face (heading 0) is the plane z = 12 - 2.2: camera depth is exact there
    cam = _camera(_scene([]), 64)
    car = r.segmentation == CLASS_ID["car"]
    zw = cam.eye[2] + r.depth[car] * cam.rays[car][:, 2]  # world point of the drawn surface
    yw = cam.eye[1] + r.depth[car] * cam.rays[car][:, 1]
    below_roof = yw < 1.5 - 1e-3
    assert below_roof.sum() > 10 and np.allclose(zw[below_roof], 9.8, atol=1e-4)
    assert np.allclose(yw[~below_roof], 1.5, atol=1e-4)  # the rest is the roof


def test_hidden_and_out_of_view_cars_are_dropped():
    r = render_scene(_scene([{"z": 10.0, "height": 3.0, "width": 3.0},
                             {"z": 20.0, "width": 1.0, "height": 0.8}, {"x": 60.0}]), 64)
    assert len(r.boxes) == 1  # the small car behind the tall one and the far-off one are gone


def test_depth_and_mask_agree_with_mitsuba_ray_casting():
    mi = pytest.importorskip("mitsuba")
    mi.set_variant("scalar_rgb")
    car = {"x": 0.7, "z": 11.0, "heading": 0.12, "width": 1.9, "length": 4.5, "height": 1.5}
    scene = _scene([car], pitch=0.09, height=1.7)
    size = 32
    r = render_scene(scene, size)
    to_world = (mi.ScalarTransform4f().translate([car["x"], 0.75, car["z"]])
                .rotate([0, 1, 0], math.degrees(car["heading"])).scale([0.95, 0.75, 2.25]))
    sc = mi.load_dict({"type": "scene", "box": {"type": "cube", "to_world": to_world}})
    cam = _camera(scene, size)
    hit = np.zeros((size, size), bool)
    depth = np.full((size, size), np.inf)
    for i in range(size):
        for j in range(size):
            d = cam.rays[i, j]
            norm = float(np.linalg.norm(d))
            si = sc.ray_intersect(mi.Ray3f(mi.Point3f(*cam.eye), mi.Vector3f(*(d / norm))))
            if si.is_valid():
                hit[i, j], depth[i, j] = True, si.t / norm
    mask = r.segmentation == CLASS_ID["car"]
    assert hit.sum() > 20
    assert (mask != hit).sum() <= 0.12 * hit.sum()  # only polygon-edge pixels may differ
    both = mask & hit
    assert np.allclose(r.depth[both], depth[both], rtol=1e-4)


def test_render_batch_stacks_the_images():
    from introdl.worlds.scene_render import render_batch
    scenes = [sample_scene(GrammarParams.prior(), s) for s in range(3)]
    images, renders = render_batch(scenes, 32)
    assert images.shape == (3, 3, 32, 32) and len(renders) == 3
    assert np.array_equal(images[1], render_scene(scenes[1], 32).image)
    assert render_batch([], 32)[0].shape == (0, 3, 32, 32)
