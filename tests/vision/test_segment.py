"""Segmentation: composed scenes (mask = pasted pixels), U-Net shapes, scores vs hand counts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rich.console import Console

from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.vision.segment import UNet, pixel_accuracy, segmentation_scores
from introdl.vision.textured_scenes import SceneConfig, make_scenes, paste


def test_paste_labels_exactly_the_item_pixels_it_writes():
    bg = np.full((10, 10), 0.5, np.float32)
    image, mask = bg.copy(), np.zeros((10, 10), np.int64)
    item = np.zeros((4, 4), np.float32)
    item[1:3, :] = 0.9  # two bright rows; the rest is below the ink threshold
    paste(image, mask, item, 2, top=3, left=5, ink=0.1)
    on = np.zeros((10, 10), bool)
    on[4:6, 5:9] = True
    assert np.array_equal(mask == 2, on) and (mask[~on] == 0).all()
    assert (image[on] == 0.9).all() and (image[~on] == bg[~on]).all()


def test_composed_scenes_masks_match_pixels_and_splits_differ():
    cfg = SceneConfig(size=32, min_scale=12, max_scale=20)
    a = make_scenes(6, "train", cfg, seed=3)
    b = make_scenes(6, "train", cfg, seed=3)
    t = make_scenes(6, "test", cfg, seed=3)
    assert a.images.shape == (6, 32, 32) and a.masks.shape == (6, 32, 32)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)  # seeded
    assert not np.array_equal(a.images, t.images)
    assert set(np.unique(a.masks)) <= set(range(len(cfg.classes) + 1))
    assert (a.masks > 0).any(axis=(1, 2)).all()  # every scene holds at least one object
    assert (a.images[a.masks > 0] > cfg.ink).all()  # object pixels are item ink
    assert a.class_names == ["background", "Trouser", "Sneaker", "Bag"]


def test_unet_keeps_the_resolution_and_rejects_odd_sizes():
    model = UNet(in_channels=1, classes=5, width=4)
    assert model(torch.randn(2, 1, 24, 32)).shape == (2, 5, 24, 32)
    with pytest.raises(ValueError, match="divide by 4"):
        model(torch.randn(1, 1, 30, 32))


def test_scores_equal_hand_counts_on_a_small_example():
    target = torch.tensor([[[0, 0, 1], [0, 2, 2]]])  # (1, 2, 3)
    pred = torch.tensor([[[0, 1, 1], [0, 2, 0]]])
    s = segmentation_scores(pred, target, num_classes=3)
    # class 0: inter 2, union 4; class 1: inter 1, union 2; class 2: inter 1, union 2
    assert s["iou_0"] == pytest.approx(2 / 4)
    assert s["iou_1"] == pytest.approx(1 / 2) and s["iou_2"] == pytest.approx(1 / 2)
    assert s["miou"] == pytest.approx((0.5 + 0.5 + 0.5) / 3)
    assert s["pixel_acc"] == pytest.approx(4 / 6)
    logits = torch.nn.functional.one_hot(pred, 3).permute(0, 3, 1, 2).float()  # (1, 3, 2, 3)
    assert float(pixel_accuracy(logits, target)) == pytest.approx(4 / 6)


def test_quick_run_trains_and_writes_the_overlay(tmp_path):
    r = run_experiment(get("segmentation"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["train_scenes=64", "test_scenes=16", "epochs=2", "size=32"],
                       console=Console(quiet=True), progress=False)
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert 0.0 <= m["test_miou"] <= 1.0 and 0.0 < m["baseline_miou"] < 1.0
    log = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().split("\n")
           if line]
    assert log[-1]["train_loss"] < log[0]["train_loss"]
    assert r.metrics["miou_over_baseline"] == pytest.approx(m["test_miou"] - m["baseline_miou"])
    for name in ("overlay.png", "loss.png"):
        assert (tmp_path / "r" / name).stat().st_size > 5_000
