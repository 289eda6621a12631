"""The deformable sphere, soft vs hard silhouette gradients, and a tiny inverse-graphics run."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from rich.console import Console

from introdl.content3d.camera import Camera, look_at, orbit
from introdl.content3d.experiments.inverse_graphics import (
    InverseGraphicsConfig,
    _cameras,
    _shared_view,
)
from introdl.content3d.fit import (
    DeformedSphere,
    FitSettings,
    Views,
    fit_losses,
    fit_mesh,
    silhouette_iou,
    soft_iou,
)
from introdl.content3d.mesh import icosphere
from introdl.content3d.renderer import render
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment

SIZE = 24


def _target_views(radius: float = 0.9) -> Views:
    """Masks and grey renders of a larger sphere from four views."""
    cam = Camera(look_at(orbit(torch.tensor([0.0, 90, 180, 270]), torch.full((4,), 20.0),
                               4.0)))
    v, f = icosphere(2)
    light = torch.tensor([0.0, 1.0, 0.0])
    out = render((radius * v).unsqueeze(0), f, cam, SIZE, colors=torch.full((1, len(v), 3), 0.7),
                 light_dir=light.view(1, 3).expand(4, 3), delta=1e-6)
    return Views(out.rgb, out.mask, cam, light)


def test_model_starts_as_a_grey_sphere():
    m = DeformedSphere(1, radius=0.5)
    v, c = m()
    assert torch.allclose(v.norm(dim=1), torch.full((42,), 0.5), atol=1e-6)
    assert torch.allclose(c, torch.full_like(c, 0.5))
    assert m.edge_target == pytest.approx(0.5 * 0.618, rel=0.1)  # subdivided icosahedron edge
    assert {n for n, _ in m.named_parameters()} == {"offsets", "color_logits"}


def test_edge_loss_pulls_to_the_sphere_edge_length_or_to_zero():
    views = _target_views()
    model = DeformedSphere(1, radius=0.5)
    keep = fit_losses(model, views, FitSettings(edge_target="sphere"), "soft")["edge"]
    shrink = fit_losses(model, views, FitSettings(edge_target="zero"), "soft")["edge"]
    assert keep.item() < 0.01 * shrink.item()  # the sphere's edges are nearly equal
    assert shrink.item() == pytest.approx(model.edge_target**2, rel=0.05)


def test_soft_iou_of_binary_masks_is_the_iou():
    a = torch.zeros(1, 1, 4, 4)
    b = torch.zeros(1, 1, 4, 4)
    a[..., :2, :] = 1  # 8 pixels
    b[..., 1:3, :] = 1  # 8 pixels, 4 shared
    assert soft_iou(a, b).item() == pytest.approx(4 / 12)


def test_hard_mask_gives_the_silhouette_no_gradient_soft_silhouette_does():
    views = _target_views()
    only_silhouette = FitSettings(w_rgb=0.0, w_laplacian=0.0, w_edge=0.0, delta=3e-3)
    grads = {}
    for mode in ("soft", "hard"):
        model = DeformedSphere(1, radius=0.5)
        fit_losses(model, views, only_silhouette, mode)["total"].backward()
        grads[mode] = model.offsets.grad
    assert grads["hard"] is None or grads["hard"].abs().max() == 0
    assert grads["soft"].abs().max() > 1e-4
    # the soft gradient pushes the outline outwards, towards the larger target
    v, _ = DeformedSphere(1, radius=0.5)()
    assert (grads["soft"] * v).sum(dim=1).mean() < 0


def test_silhouette_only_fit_grows_with_soft_and_never_moves_with_hard():
    views = _target_views()
    settings = FitSettings(steps=25, views_per_step=2, w_rgb=0.0, w_laplacian=0.0, w_edge=0.0,
                           delta=3e-3, lr=0.02)
    iou = {}
    for mode in ("soft", "hard"):
        model = DeformedSphere(1, radius=0.5)
        fit_mesh(model, views, settings, mode, seed=0)
        iou[mode] = silhouette_iou(model()[0], model.faces, views).mean().item()
        if mode == "hard":  # zero gradient everywhere: the sphere stays exactly as it was
            assert model.offsets.abs().max() == 0
    start = DeformedSphere(1, radius=0.5)
    iou0 = silhouette_iou(start()[0], start.faces, views).mean().item()
    assert iou["hard"] == pytest.approx(iou0)
    assert iou["soft"] > iou0 + 0.15


def test_fit_is_deterministic_per_seed():
    views = _target_views()
    settings = FitSettings(steps=4, views_per_step=2)
    runs = []
    for seed in (0, 0, 1):
        model = DeformedSphere(1)
        runs.append(fit_mesh(model, views, settings, "soft", seed=seed)["total"])
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_held_out_views_are_not_training_views():
    cfg = InverseGraphicsConfig()
    train = _cameras(cfg, cfg.azimuths, cfg.elevations, 0.0).view
    held = _cameras(cfg, cfg.eval_azimuths, cfg.eval_elevations, 180.0 / cfg.eval_azimuths).view
    gap = (train[:, None] - held[None]).flatten(2).abs().amax(dim=2)
    assert gap.min() > 0.1


TINY = ["size=24", "subdivisions=1", "steps=12", "azimuths=4", "elevations=20",
        "eval_azimuths=3", "eval_elevations=35", "chamfer_points=200", "turntable_frames=4",
        "views_per_step=2"]


def test_tiny_run_writes_metrics_figures_and_gif(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("inverse-graphics"), out=out, quick=True, device="cpu", sets=TINY,
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["soft_minus_hard_iou"] == pytest.approx(m["iou_soft"] - m["iou_hard"])
    assert m["chamfer_ratio_soft"] == pytest.approx(m["chamfer_soft"] / m["chamfer_sphere"])
    assert 0 < m["iou_sphere"] < 1 and m["chamfer_sphere"] > 0
    assert "not photographs" in (out / "results.md").read_text()
    for name in ("views.png", "losses.png", "turntable.png"):
        assert (out / name).stat().st_size > 5_000
    gif = (out / "turntable.gif").read_bytes()
    assert gif[:6] in (b"GIF87a", b"GIF89a")


@pytest.mark.parametrize("bad", ["mesh=no_such_mesh", "size=8", "radius=0", "distance=2"])
def test_bad_config_is_one_line(tmp_path, bad):
    key = bad.split("=")[0]
    with pytest.raises(UsageError, match=key):
        run_experiment(get("inverse-graphics"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[bad], console=Console(quiet=True), progress=False)


def test_config_fields_have_the_quick_preset():
    fields = {f.name for f in dataclasses.fields(InverseGraphicsConfig)}
    assert set(get("inverse-graphics").quick) <= fields


@pytest.mark.parametrize("sets, match", [
    (["eval_azimuths=4", "eval_elevations=15,45"], r"eval_azimuths=4 .*azimuth 45, elevation 15"),
    (["eval_azimuths=6", "eval_elevations=45"], r"eval_azimuths=6 .*azimuth 90, elevation 45"),
])
def test_held_out_views_that_are_training_views_are_refused(tmp_path, sets, match):
    with pytest.raises(UsageError, match=match):
        run_experiment(get("inverse-graphics"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)


def test_default_and_quick_held_out_views_share_no_training_view():
    cfg = InverseGraphicsConfig()
    assert _shared_view(cfg) is None
    assert _shared_view(dataclasses.replace(cfg, **get("inverse-graphics").quick)) is None
    # same azimuths (8 vs 8, offset 22.5) but a training elevation: still no shared view
    assert _shared_view(dataclasses.replace(cfg, eval_elevations=(15.0,))) is None


@pytest.mark.parametrize("text", ["v 0 0 0\nv 1 0 0\nf 1 2 7\n", "hello world\n"])
def test_a_bad_obj_file_is_refused_in_one_line(tmp_path, text):
    bad = tmp_path / "bad.obj"
    bad.write_text(text)
    with pytest.raises(UsageError, match="bad.obj") as e:
        run_experiment(get("inverse-graphics"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[f"mesh={bad}"], console=Console(quiet=True), progress=False)
    assert "\n" not in str(e.value)
