"""Slide simulator, two-stream patch model, simulated pathologist, and a tiny end-to-end run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rich.console import Console
from skimage.color import rgb2hed

from introdl.errors import DataUnavailable, UsageError
from introdl.experiment import get
from introdl.health.patch_model import SlideTensor, TwoStreamNet, heat_map, sample_patches
from introdl.health.pathologist import Pathologist, assisted, calibrate, unaided
from introdl.health.slide import SlideParams, simulate_slide
from introdl.runner import run_experiment

SMALL = SlideParams(size=384, n_lesions=3, n_mimics=2, r_min=10, r_max=30, tile=128)


def test_same_seed_same_slide_other_seed_other_slide():
    a, b, c = simulate_slide(3, SMALL), simulate_slide(3, SMALL), simulate_slide(4, SMALL)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert a.lesions == b.lesions
    assert not np.array_equal(a.image, c.image)
    assert a.image.shape == (384, 384, 3) and a.image.dtype == np.uint8
    assert len(a.lesions) == 3 and len(a.mimics) == 2
    assert (a.labels > 0).sum() == a.mask.sum() == sum(les.area for les in a.lesions)
    assert not (a.mask & a.benign).any()
    for k, les in enumerate(a.lesions, start=1):  # each lesion's label sits at its centre
        assert a.labels[int(les.cy), int(les.cx)] == k
        assert SMALL.r_min <= les.radius <= SMALL.r_max


def test_haematoxylin_gain_darkens_the_nuclear_stain_inside_tumours():
    def h_inside(gain):
        s = simulate_slide(5, SlideParams(**{**SMALL.__dict__, "tumour_h_gain": gain}))
        return rgb2hed(s.image)[..., 0][s.mask].mean()
    assert h_inside(2.0) > h_inside(1.0) * 1.2


def test_lesion_radii_follow_the_stated_range():
    p = SlideParams(size=1024, n_lesions=10, n_mimics=0, r_min=10, r_max=40, tile=128)
    r = np.array([les.radius for s in range(3) for les in simulate_slide(s, p).lesions])
    assert r.min() >= 10 and r.max() <= 40
    assert np.median(r) == pytest.approx(20, rel=0.35)  # log-uniform: median sqrt(10 * 40)


def test_two_stream_shapes_and_context_changes_the_output():
    torch.manual_seed(0)
    net = TwoStreamNet(width=8).eval()
    high, low = torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)
    assert net(high, low).shape == (4,)
    assert net.features(high, low).shape == (4, 32)
    assert not torch.allclose(net(high, low), net(high, torch.randn(4, 3, 32, 32)))
    single = TwoStreamNet(width=8, context=False).eval()
    assert single(high).shape == (4,)
    with pytest.raises(ValueError, match="context"):
        net(high)


def test_crops_heat_map_and_balanced_sampling():
    s = simulate_slide(1, SMALL)
    t = SlideTensor(s.image, patch=32, factor=4)
    high, low = t.crops(np.array([0, 100, 383]), np.array([0, 200, 383]))
    assert high.shape == low.shape == (3, 3, 32, 32)
    x = torch.from_numpy(s.image).float().permute(2, 0, 1) / 255
    x = (x - x.mean((1, 2), keepdim=True)) / x.std((1, 2), keepdim=True)
    assert torch.allclose(high[1], x[:, 84:116, 184:216], atol=1e-4)  # centred on (100, 200)
    heat = heat_map(TwoStreamNet(width=8), t, stride=16, batch_size=100)
    assert heat.shape == (24, 24) and ((heat >= 0) & (heat <= 1)).all()
    cy, cx, y = sample_patches(s.labels, 200, np.random.default_rng(0), s.benign, 0.5)
    assert y.mean() == 0.5
    assert (s.mask[cy, cx] == y.astype(bool)).all()
    # half the negatives from the benign mask, the other half uniform (a few land there too)
    assert 0.5 <= s.benign[cy[y == 0], cx[y == 0]].mean() < 0.5 + 4 * s.benign.mean() + 0.05
    lesions_hit = set(s.labels[cy[y == 1], cx[y == 1]])
    assert lesions_hit == {1, 2, 3}  # every lesion, small ones too


def test_pathologist_is_calibrated_and_misses_small_lesions():
    law = np.exp(np.linspace(np.log(10), np.log(80), 2001))
    path = calibrate(law, 0.73)
    assert path.p_detect(law).mean() == pytest.approx(0.73, abs=1e-6)
    assert path.p_detect(path.r50) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    radii = rng.choice(law, size=20000)
    found = unaided(path, [radii], rng)[0]
    assert found.mean() == pytest.approx(0.73, abs=0.01)
    for lo, hi in ((10, 14), (14, 25), (25, 80)):  # empirical vs stated curve, by size
        sel = (radii >= lo) & (radii < hi)
        assert found[sel].mean() == pytest.approx(path.p_detect(radii[sel]).mean(), abs=0.03)
    assert found[radii < 14].mean() < 0.5 < found[radii > 25].mean()


def test_assisted_read_adds_the_reviewed_lesions_and_rejects_fps():
    lab = np.zeros((100, 100), np.int32)
    lab[10:20, 10:20], lab[50:60, 50:60] = 1, 2
    dets = np.array([[15, 15, 0.9], [80, 80, 0.8], [55, 55, 0.1]])
    sure = Pathologist(r50=10, confirm=1.0, accept_fp=0.0)
    rng = np.random.default_rng(0)
    alone = [np.array([False, False])]
    found, fps = assisted(sure, alone, [dets], [lab], top_k=2, rng=rng)
    assert found[0].tolist() == [True, False] and fps.tolist() == [0]  # lesion 2 not in top 2
    found, _ = assisted(sure, alone, [dets], [lab], top_k=3, rng=rng)
    assert found[0].tolist() == [True, True]
    gullible = Pathologist(r50=10, confirm=1.0, accept_fp=1.0)
    assert assisted(gullible, alone, [dets], [lab], 3, rng)[1].tolist() == [1]


def test_tiny_run_writes_metrics_and_figures(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("pathology"), out=out, quick=True, device="cpu",
                   sets=["size=384", "train_slides=1", "val_slides=1", "test_slides=1",
                         "steps=5", "n_lesions=3", "n_mimics=2", "r_max=30",
                         "embed_patches=60", "readers=2", "single_stream=false"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for key in ("model_sens_at_1fp", "model_sens_at_8fp", "pathologist_sensitivity",
                "assisted_sensitivity", "assisted_fps", "discovery_enrichment"):
        assert key in m
    assert m["model_minus_pathologist"] == pytest.approx(
        m["model_sensitivity"] - m["pathologist_sensitivity"])
    assert m["pathologist_fps"] == 0
    for name in ("slide.png", "froc.png", "discovery.png"):
        assert (out / name).stat().st_size > 5_000
    assert "simulated" in (out / "results.md").read_text().lower()


def test_bad_config_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="r_max"):
        run_experiment(get("pathology"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["r_max=500"], console=Console(quiet=True), progress=False)


def test_unknown_data_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="data"):
        run_experiment(get("pathology"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["data=camelyon"], console=Console(quiet=True), progress=False)


def test_missing_pathmnist_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="pathmnist") as e:
        run_experiment(get("pathology"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["data=pathmnist"], console=Console(quiet=True), progress=False)
    assert "\n" not in str(e.value) and "$INTRODL_DATA/pathmnist/" in str(e.value)


def test_pathmnist_path_runs_on_a_stand_in_file(tmp_path, monkeypatch):
    """The pathmnist path on random uint8 patches shaped like the file (no real data): the
    tumour class (8) is redder, so a working pipeline must separate it on the test split."""
    import introdl.health.medmnist as medmnist

    rng = np.random.default_rng(0)

    def fake(name):  # the real file's layout: uint8 (n, 28, 28, 3) images, classes 0-8
        def part(n):
            y = rng.integers(0, 9, n)
            x = rng.integers(0, 200, (n, 28, 28, 3)).astype(np.uint8)
            x[y == 8, :, :, 0] += 55
            return x, y
        (xt, yt), (xv, yv), (xs, ys) = part(400), part(120), part(120)
        return medmnist.MedMNIST(name, xt, yt, xv, yv, xs, ys)

    monkeypatch.setattr(medmnist, "load_medmnist", fake)
    out = tmp_path / "r"
    run_experiment(get("pathology"), out=out, quick=True, device="cpu",
                   sets=["data=pathmnist", "pathmnist_train=300", "steps=40", "clusters=3"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["train_patches"] == 300
    assert m["patch_auc"] > 0.9 and m["patch_sensitivity"] > 0.7
    assert m["patch_specificity"] > 0.7
    assert m["discovery_enrichment"] >= 1.0
    assert "model_sens_at_8fp" not in m and "pathologist_sensitivity" not in m
    assert "Real PathMNIST" in (out / "results.md").read_text()
