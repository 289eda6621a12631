"""A tiny single-image-3d run end to end, its metrics' relations, and bad input as one line."""

from __future__ import annotations

import json

import pytest
import torch
from rich.console import Console

from introdl.content3d.cars import make_cars
from introdl.content3d.experiments.single_image_3d import (
    evaluate,
    novel_azimuths,
    render_cars,
    training_azimuths,
)
from introdl.content3d.mesh import icosphere
from introdl.content3d.reconstruct import Prediction
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment

TINY = ["train_objects=6", "test_objects=2", "views=4", "size=16", "fit_steps=3",
        "baseline_steps=2", "voxel_resolution=8", "chamfer_points=100", "batch_size=4",
        "views_per_step=2", "subdivisions=1"]


def test_novel_angles_fall_between_training_angles():
    assert torch.equal(training_azimuths(4), torch.tensor([0.0, 90.0, 180.0, 270.0]))
    assert torch.equal(novel_azimuths(4), torch.tensor([45.0, 135.0, 225.0, 315.0]))


def test_evaluate_scores_a_matching_shape_above_a_wrong_one():
    cars = make_cars(2, seed=3)
    novel = render_cars(cars, novel_azimuths(4), 16, 40.0, 3.5, seed=3)
    verts, faces = icosphere(1)
    boxy = torch.stack([verts * torch.tensor([0.7, 0.3, 0.3]) for _ in cars])  # car-like size
    tiny = torch.stack([verts * 0.1 for _ in cars])
    col, light = torch.full((2, len(verts), 3), 0.5), torch.tensor([[0.0, 1.0, 0.0]] * 2)
    good = evaluate(Prediction(boxy, col, light), faces, cars, novel, 16, 300)
    bad = evaluate(Prediction(tiny, col, light), faces, cars, novel, 16, 300)
    assert good["iou"] > bad["iou"] + 0.1
    assert good["chamfer"] < bad["chamfer"]
    assert good["novel_view_iou"] > bad["novel_view_iou"] + 0.1


def test_tiny_run_writes_results_and_figure(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("single-image-3d"), out=out, quick=True, device="cpu", sets=TINY,
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["iou_gain"] == pytest.approx(m["iou_encoder"] - m["iou_mean_shape"])
    assert m["chamfer_ratio"] == pytest.approx(m["chamfer_encoder"] / m["chamfer_mean_shape"])
    assert all(0 <= m[f"iou_{k}"] <= 1 for k in ("encoder", "mean_shape", "sphere"))
    assert "procedurally generated" in (out / "results.md").read_text()
    assert (out / "asset.png").stat().st_size > 5_000


def test_bad_config_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="size"):
        run_experiment(get("single-image-3d"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["size=20"], console=Console(quiet=True), progress=False)
    with pytest.raises(UsageError, match="views_per_step"):
        run_experiment(get("single-image-3d"), out=tmp_path / "r2", quick=True, device="cpu",
                       sets=["views=2", "views_per_step=3"], console=Console(quiet=True),
                       progress=False)
