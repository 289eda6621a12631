"""A tiny ganverse3d run end to end, its derived metrics, and bad input as one line."""

from __future__ import annotations

import json
import math

import pytest
from rich.console import Console

from introdl.content3d.experiments.ganverse3d import gap_closed
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment

TINY = ["train_objects=6", "test_objects=2", "generated_objects=4", "views=4", "size=16",
        "gan_steps=4", "fit_steps=2", "baseline_steps=2", "voxel_resolution=8",
        "chamfer_points=100", "batch_size=4", "views_per_step=2", "subdivisions=1",
        "probe_views=2", "probe_epochs=1", "identity_classes=3", "sweep_contents=2"]


def test_tiny_run_writes_results_and_figures(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("ganverse3d"), out=out, quick=True, device="cpu", sets=TINY,
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["gen_iou_gain"] == pytest.approx(m["iou_gen"] - m["iou_mean_shape"])
    expected = gap_closed(m["gen_iou_gain"], m["true_iou_gain"])
    assert m["gap_closed"] == pytest.approx(expected, nan_ok=True)
    assert m["identity_disentanglement"] == pytest.approx(
        m["identity_kept_view_sweep_new"] - m["identity_kept_content_sweep_new"])
    assert 0 <= m["pose_error_new"] <= 180 and 0 < m["identity_kept_view_sweep_new"] <= 1
    assert "procedurally generated" in (out / "results.md").read_text()
    for name in ("view_content_grid.png", "asset_from_generated.png"):
        assert (out / name).stat().st_size > 5_000


def test_bad_config_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="identity_classes"):
        run_experiment(get("ganverse3d"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["train_objects=8", "identity_classes=9"],
                       console=Console(quiet=True), progress=False)
    with pytest.raises(UsageError, match="size"):
        run_experiment(get("ganverse3d"), out=tmp_path / "r2", quick=True, device="cpu",
                       sets=["size=24"], console=Console(quiet=True), progress=False)


def test_colour_jitter_is_seeded_keeps_black_and_permutes_channels():
    import torch

    from introdl.content3d.experiments.ganverse3d import colour_jitter

    images = torch.rand(8, 3, 4, 4)
    images[:, :, 0, 0] = 0.0  # background
    a = colour_jitter(images, torch.Generator().manual_seed(3), 3.0, 0.3)
    b = colour_jitter(images, torch.Generator().manual_seed(3), 3.0, 0.3)
    assert torch.equal(a, b)
    assert not torch.allclose(a, images)
    assert (a[:, :, 0, 0] == 0).all() and a.min() >= 0 and a.max() <= 1
    # with no saturation or brightness change it only reorders each image's channels
    p = colour_jitter(images, torch.Generator().manual_seed(4), 1.0, 0.0)
    assert torch.allclose(p.sort(1).values, images.sort(1).values, atol=1e-6)


def test_gap_closed_is_nan_when_true_data_barely_beats_the_mean_shape():
    assert gap_closed(0.074, 0.064) == pytest.approx(0.074 / 0.064)
    assert gap_closed(-0.02, 0.04) == pytest.approx(-0.5)
    for true_gain in (0.01, 0.005, 0.0, -0.03):  # a ratio over ~0 would pass spuriously
        assert math.isnan(gap_closed(0.004, true_gain))
    claim = next(c for c in get("ganverse3d").claims if c.metric == "gap_closed")
    assert not claim.check({"gap_closed": gap_closed(0.004, 0.001)})
    assert claim.check({"gap_closed": gap_closed(0.05, 0.06)})


@pytest.mark.parametrize("bad", ["voxel_resolution=0", "chamfer_points=0", "probe_views=0",
                                 "probe_epochs=0"])
def test_bad_evaluation_sizes_are_refused_in_one_line(tmp_path, bad):
    with pytest.raises(UsageError, match=bad):
        run_experiment(get("ganverse3d"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[bad], console=Console(quiet=True), progress=False)
