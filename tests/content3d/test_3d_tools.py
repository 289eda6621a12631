"""Turntable rendering to PNG/GIF, the experiment's meshes, and a tiny 3d-tools run."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch
import trimesh
from rich.console import Console

from introdl.content3d.experiments.three_d_tools import load_shape
from introdl.content3d.turntable import save_gif, save_strip, turntable_frames
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment


def _box_off_centre():
    m = trimesh.creation.box((0.6, 0.3, 0.3))
    m.apply_translation((0.3, 0.0, 0.0))  # sticks out along +x only
    return torch.tensor(m.vertices, dtype=torch.float32), torch.tensor(m.faces)


def test_turntable_turns_the_object_and_writes_files(tmp_path):
    v, f = _box_off_centre()
    frames = turntable_frames(v, f, n=4, size=32, elevation=0.0)
    assert frames.shape == (4, 32, 32, 3) and frames.dtype == np.uint8
    covered = frames.min(axis=3) < 250  # white background
    assert covered.any(axis=(1, 2)).all()
    cols = [np.flatnonzero(c.any(axis=0)).mean() for c in covered]
    # azimuth 0 looks from +z: the box is to the right; at 180 degrees it is to the left
    assert cols[0] > 16 + 2 and cols[2] < 16 - 2
    assert abs(cols[1] - 16) < 2.5  # from +x it is seen end-on, in the middle
    gif = save_gif(frames, tmp_path / "t.gif")
    back = iio.imread(gif)
    assert back.shape[0] == 4 and back.shape[1:3] == (32, 32)
    strip = save_strip(frames, tmp_path / "t.png")
    assert iio.imread(strip).shape[:2] == (32, 128)
    with pytest.raises(FileExistsError):
        save_gif(frames, gif)
    save_gif(frames[:2], gif, force=True)
    assert iio.imread(gif).shape[0] == 2


def test_shapes_are_scaled_into_the_grid():
    for name in ("bunny", "torus", "urdf003"):
        v, f, source = load_shape(name)
        assert np.isclose((v.max(0).values - v.min(0).values).max().item(), 1.8)
        assert v.abs().max() <= 0.9 + 1e-6
        assert trimesh.Trimesh(v.numpy(), f.numpy()).is_watertight, name
    assert "procedural" in load_shape("icosphere")[2]
    with pytest.raises(UsageError, match="bunny"):
        load_shape("bunyn")


def test_tiny_run_writes_table_figures_and_turntable(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("3d-tools"), out=out, quick=True, device="cpu",
                   sets=["meshes=torus,urdf001", "resolutions=8,16", "points=800",
                         "frames=2", "frame_size=32", "figure_size=32", "route_density=4"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["chamfer_torus_r16"] < m["chamfer_torus_r8"]
    assert m["chamfer_excess_ratio_worst"] == pytest.approx(max(
        m[f"chamfer_excess_ratio_{n}"] for n in ("torus", "urdf001")))
    assert m["chamfer_excess_ratio_torus"] < 1.0
    assert 0 < m["fscore_worst_at_max_r"] <= 1
    text = (out / "results.md").read_text()
    assert "procedural (trimesh.creation)" in text and "floor" in text
    for name in ("round_trip.png", "error_vs_resolution.png", "turntable_torus_r16.gif"):
        assert (out / name).stat().st_size > 1_000
    back = trimesh.load(out / "meshes" / "torus_r16.ply")
    assert back.is_watertight


@pytest.mark.parametrize("bad, key", [("resolutions=32,16", "resolutions"),
                                      ("resolutions=4,8", "resolutions=4,8 .*in 8..160"),
                                      ("meshes=teapot", "meshes"), ("threshold=0", "threshold")])
def test_bad_config_is_one_line(tmp_path, bad, key):
    with pytest.raises(UsageError, match=key):
        run_experiment(get("3d-tools"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[bad], console=Console(quiet=True), progress=False)


def test_a_blur_that_erases_the_voxels_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="mesh torus at resolution 8 with smooth=3 leaves no "
                                         "surface.*smaller smooth"):
        run_experiment(get("3d-tools"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["meshes=torus", "resolutions=8,16", "smooth=3", "points=200",
                             "frames=1"], console=Console(quiet=True), progress=False)
