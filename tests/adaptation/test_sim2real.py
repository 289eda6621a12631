"""Sim-to-real scenes: seeded and labelled right, the real look differs as stated; a tiny
experiment run end to end; bad settings are refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console
from scipy.ndimage import gaussian_filter

from introdl.adaptation.sim2real_scenes import RealStyle, game_scenes, real_scenes, texture
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.worlds.grammar import GrammarParams
from introdl.worlds.scene_render import CLASS_ID, CLASSES

PLAIN = RealStyle(recolour=False, texture_contrast=0.0, gain=(1.0, 1.0), cast=0.0,
                  gamma=(1.0, 1.0), blur=(0.0, 0.0), noise=0.0)


def test_same_seed_same_scenes_and_labels_are_class_maps():
    a, b = game_scenes(5, 16, 3), game_scenes(5, 16, 3)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.images.shape == (5, 3, 16, 16) and a.images.dtype == np.float32
    assert a.labels.shape == (5, 16, 16) and a.labels.dtype == np.int64
    assert a.labels.min() >= 0 and a.labels.max() < len(CLASSES)
    assert 0.0 <= a.images.min() and a.images.max() <= 1.0
    assert not np.array_equal(a.images, game_scenes(5, 16, 4).images)
    r1, r2 = real_scenes(4, 16, 7), real_scenes(4, 16, 7)
    np.testing.assert_array_equal(r1.images, r2.images)
    assert not np.array_equal(r1.images, real_scenes(4, 16, 8).images)


def test_restyling_keeps_every_label_and_the_plain_style_keeps_the_image():
    prior = GrammarParams.prior()
    game = game_scenes(4, 16, 11)
    real = real_scenes(4, 16, 11, params=prior)  # same content, real look
    np.testing.assert_array_equal(real.labels, game.labels)
    assert np.abs(real.images - game.images).mean() > 0.05
    plain = real_scenes(4, 16, 11, params=prior, style=PLAIN)
    np.testing.assert_allclose(plain.images, game.images, atol=1e-6)


def _within_class_std(s, cls: str) -> float:
    """Mean over images of the pixel std inside one class region (texture + noise)."""
    k = CLASS_ID[cls]
    out = [x[:, y == k].std(axis=1).mean() for x, y in zip(s.images, s.labels, strict=True)
           if (y == k).sum() > 20]
    return float(np.mean(out))


def test_real_has_textured_regions_sensor_noise_and_a_pale_sky():
    prior = GrammarParams.prior()
    game = game_scenes(6, 32, 5)
    real = real_scenes(6, 32, 5, params=prior)
    # flat colours vs photograph textures (game buildings already vary: faces, shades)
    assert _within_class_std(real, "road") > 2.5 * _within_class_std(game, "road") + 0.01
    flat = real_scenes(6, 32, 5, params=prior, style=RealStyle(texture_contrast=0.0, noise=0.0))
    rough = real_scenes(6, 32, 5, params=prior, style=RealStyle(noise=0.0))
    assert _within_class_std(rough, "road") > 1.5 * _within_class_std(flat, "road")
    assert _within_class_std(real, "building") > 1.5 * _within_class_std(game, "building")
    # noise: high-frequency energy grows with the stated noise std
    quiet = real_scenes(6, 32, 5, params=prior, style=RealStyle(noise=0.0, blur=(0.0, 0.0)))
    loud = real_scenes(6, 32, 5, params=prior, style=RealStyle(noise=0.1, blur=(0.0, 0.0)))
    hf = [float((s.images - gaussian_filter(s.images, (0, 0, 1, 1))).std()) for s in (quiet, loud)]
    assert hf[1] > hf[0] + 0.03
    sky = game.labels == CLASS_ID["sky"]
    blue = [float((s.images[:, 2] - s.images[:, 0])[sky].mean()) for s in (game, real)]
    assert blue[0] > 0.25 and blue[1] < blue[0] - 0.15  # blue game sky, overcast real sky


def test_real_scene_statistics_differ_busier_roads():
    game, real = game_scenes(60, 16, 0), real_scenes(60, 16, 0)
    car = CLASS_ID["car"]
    assert (real.labels == car).mean() > 1.5 * (game.labels == car).mean()


def test_texture_is_normalised_and_bad_style_is_refused():
    t = texture("brick", 32)
    assert t.shape == (32, 32) and abs(float(t.mean())) < 1e-4 and abs(float(t.std()) - 1) < 1e-3
    with pytest.raises(ValueError, match="noise"):
        real_scenes(1, 16, 0, style=RealStyle(noise=-0.1))
    with pytest.raises(ValueError, match="gain"):
        real_scenes(1, 16, 0, style=RealStyle(gain=(1.2, 0.5)))


TINY = ["size=16", "n_game=24", "n_real=24", "n_test=12", "steps=3", "batch_size=4",
        "unet_width=4", "gan_steps=2", "gan_batch=2", "width=4", "blocks=1", "disc_width=4"]


def test_tiny_run_reports_every_methods_scores_and_figures(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("sim2real-segmentation"), out=out, quick=True, device="cpu", sets=TINY,
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for method in ("source_only", "pixel_adapted", "target_supervised"):
        for score in ("pixel_acc", "miou"):
            v = m[f"{score}_{method}"]
            assert 0.0 <= v <= 1.0
    assert m["pixel_gain_over_source_only"] == pytest.approx(
        m["pixel_acc_pixel_adapted"] - m["pixel_acc_source_only"])
    assert 0.0 <= m["semantic_agreement"] <= 1.0
    text = (out / "results.md").read_text()
    assert "procedurally generated" in text.lower() and "pixel-adapted" in text
    for name in ("scores.png", "examples.png"):
        assert (out / name).stat().st_size > 5_000


@pytest.mark.parametrize("sets, match", [
    (["size=30"], "multiple of 4"),
    (["gan_steps=0"], "at least 1"),
    (["lambda_semantic=-1"], ">= 0"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path, sets, match):
    with pytest.raises(UsageError, match=match):
        run_experiment(get("sim2real-segmentation"), out=tmp_path / "r", quick=True,
                       device="cpu", sets=sets, console=Console(quiet=True), progress=False)
