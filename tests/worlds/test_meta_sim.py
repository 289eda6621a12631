"""Meta-Sim end to end: the hidden world, gradients through the real renderer, a tiny run."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from rich.console import Console

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.worlds.experiments.meta_sim import (
    ATTRIBUTE_FIELDS,
    HIGH_CAMERA,
    SceneSlots,
    attribute_values,
    differentiable_renders,
    hidden_world,
    labelled,
)
from introdl.worlds.finite_diff import render_with_fd
from introdl.worlds.gnn import AttrSchema, SceneGNN
from introdl.worlds.grammar import GrammarParams, sample_scenes
from introdl.worlds.scene_render import render_scene


def _one_car_scene():
    params = GrammarParams(lane_probs=(1.0,), cars_per_lane_probs=(0, 1, 0, 0, 0),
                           p_pedestrian=0.0, p_building=0.0, p_tree=0.0)
    return sample_scenes(params, 1, 3)[0]


def test_hidden_world_changes_attributes_not_rules():
    prior, real = GrammarParams.prior(), hidden_world()
    changed = {f.name for f in dataclasses.fields(prior)
               if getattr(prior, f.name) != getattr(real, f.name)}
    assert changed and changed <= set(ATTRIBUTE_FIELDS)
    assert "camera_height" in changed and "palette_probs" in changed
    assert hidden_world(real_structure=True) == GrammarParams.real()


def test_high_camera_world_moves_only_the_camera_and_is_seeded():
    high, low = hidden_world(high_camera=True), hidden_world()
    assert dataclasses.replace(high, camera_height=low.camera_height,
                               camera_pitch=low.camera_pitch) == low
    heights = attribute_values(sample_scenes(high, 30, 0), "scene.camera_height")
    lo, hi = HIGH_CAMERA["camera_height"]
    assert lo <= heights.min() and heights.max() <= hi
    prior_h = attribute_values(sample_scenes(GrammarParams.prior(), 30, 0), "scene.camera_height")
    assert heights.min() > prior_h.max()  # the stated gap: every real camera is higher
    again = attribute_values(sample_scenes(high, 30, 0), "scene.camera_height")
    assert np.array_equal(heights, again)


def test_detection_targets_are_the_visible_cars_only():
    scenes = sample_scenes(GrammarParams.real(), 12, 1)
    _, boxes, labels = labelled(scenes, 64)
    renders = [render_scene(s, 64) for s in scenes]
    assert sum(len(r.labels) for r in renders) > sum(len(b) for b in boxes) > 0  # peds dropped
    for b, lab, r in zip(boxes, labels, renders, strict=True):
        assert len(b) == int((r.labels == 4).sum()) and (lab == 0).all()


def test_fd_slope_through_the_scene_renderer_matches_the_linear_colour_slope():
    """The image is linear in a car's red channel (shade x colour, then haze), so the slope
    of the mean intensity is mean(image | r = 1) - mean(image | r = 0), exactly."""
    scene = _one_car_scene()
    car = scene.find("car")[0]

    def mean_with(r):
        car.attrs["r"] = r
        return float(render_scene(scene).image.mean())

    slope = mean_with(1.0) - mean_with(0.0)
    assert slope > 1e-4  # the car is visible

    def render(theta):
        car.attrs["r"] = float(theta[0])
        return render_scene(scene).image

    r = torch.tensor([0.5], requires_grad=True)
    render_with_fd(render, r, 0.1).mean().backward()
    assert float(r.grad[0]) == pytest.approx(slope, rel=1e-4)


def test_gradients_reach_the_network_through_the_renderer():
    scenes = [_one_car_scene(), sample_scenes(GrammarParams.prior(), 1, 5)[0]]
    learned = [("scene", "camera_height"), ("car", "r"), ("car", "width")]
    schema = AttrSchema.fit(scenes, learned)
    torch.manual_seed(0)
    gnn = SceneGNN(schema, hidden=8, layers=3)
    images = differentiable_renders(gnn, scenes, 32)
    assert images.shape == (2, 3, 32, 32)
    assert np.allclose(images[0].detach().numpy(), render_scene(scenes[0], 32).image)
    images.mean().backward()  # brighter: the camera height and the car's red change it
    assert gnn.head.bias.grad is not None and gnn.head.bias.grad.abs().sum() > 0
    slots = SceneSlots(schema.encode(scenes[:1]), np.arange(len(scenes[0])), schema,
                       scenes[0], 32)
    assert [a for _, a in slots.slots] == ["camera_height", "r", "width"]


def test_lateral_position_is_measured_from_the_lane_centre():
    scenes = sample_scenes(GrammarParams.prior(), 20, 0)
    x = attribute_values(scenes, "car.x")
    assert len(x) == sum(len(s.find("car")) for s in scenes) and np.abs(x).max() < 1.75


def test_tiny_run_writes_metrics_table_and_figure(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("meta-sim"), out=out, quick=True, device="cpu",
                   sets=["steps=2", "batch_size=3", "n_real=12", "n_eval=12", "snapshots=2",
                         "detector=true", "det_train=8", "det_test=8", "det_epochs=1",
                         "size=32", "learned=scene.camera_height,car.r"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for key in ("mmd_before", "mmd_after", "mmd_ratio", "w_before_camera_height",
                "w_after_camera_height", "w_ratio_camera_height", "w_before_width",
                "map_prior", "map_metasim", "map_oracle", "map_gain", "map_prior_sd"):
        assert key in m and np.isfinite(m[key])
    assert m["w_after_width"] == m["w_before_width"]  # not learned: untouched
    assert m["mmd_ratio"] == pytest.approx(m["mmd_after"] / m["mmd_before"])
    text = (out / "results.md").read_text()
    assert "simulated" in text and "scene.camera_height" in text
    assert (out / "meta_sim.png").stat().st_size > 10_000


def test_unknown_slot_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="learned"):
        run_experiment(get("meta-sim"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["learned=car.wheels"], console=Console(quiet=True),
                       progress=False)


@pytest.mark.parametrize("bad", ["hidden=0", "layers=0", "layers=-1"])
def test_gnn_size_out_of_range_is_refused_in_one_line(tmp_path, bad):
    with pytest.raises(UsageError, match=f"--set {bad} is out of range"):
        run_experiment(get("meta-sim"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[bad], console=Console(quiet=True), progress=False)
