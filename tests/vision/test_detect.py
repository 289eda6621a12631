"""Detection (Lecture 3): data composition, IoU/NMS parity, proposals, windows, mAP, a quick run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torchvision
from rich.console import Console

from introdl.data import load_arrays
from introdl.vision.detect.classifier import BACKGROUND, CropCNN, sample_training_boxes, warp_crops
from introdl.vision.detect.evaluate import mean_ap50
from introdl.vision.detect.faster import FasterRCNNDetector, build_faster_rcnn, train_faster_rcnn
from introdl.vision.detect.nms import box_iou, nms
from introdl.vision.detect.proposals import propose
from introdl.vision.detect.scenes import SceneConfig, compose_scene, make_scenes
from introdl.vision.detect.sliding import SlidingConfig, sliding_windows


@pytest.fixture(scope="module")
def test_scenes():
    return make_scenes(24, "test", seed=3)


def test_boxes_contain_every_pasted_digit_pixel_and_are_tight():
    cfg = SceneConfig(noise=0.0, strokes=0, fragments=0)
    digits, classes = load_arrays("digits", "test")
    rng = np.random.default_rng(0)
    for _ in range(20):
        img, boxes, _ = compose_scene(digits, classes, cfg, rng)
        inside = np.zeros_like(img, bool)
        for x1, y1, x2, y2 in boxes.astype(int):
            inside[y1:y2, x1:x2] = True
            crop = img[y1:y2, x1:x2] > cfg.ink  # tight: ink on all four edges
            assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()
        assert not (img[~inside] > cfg.ink).any()
        assert len(boxes) >= cfg.min_digits


@pytest.mark.parametrize("digit", [0, 7])
def test_labels_are_the_pasted_digits_class(digit):
    digits, classes = load_arrays("digits", "train")
    pool = classes == digit
    img, boxes, labels = compose_scene(digits[pool], classes[pool], SceneConfig(),
                                       np.random.default_rng(1))
    assert len(labels) == len(boxes) > 0 and (labels == digit).all()


def test_box_iou_matches_torchvision():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(7, 2, generator=g) * 50
    a = torch.cat([a, a + 5 + torch.rand(7, 2, generator=g) * 30], 1)
    b = torch.cat([a[:4] + 3, a[:4] + 3], 1)[:, [0, 1, 6, 7]]
    torch.testing.assert_close(box_iou(a, b), torchvision.ops.box_iou(a, b))


def test_nms_keeps_the_best_of_each_cluster_like_torchvision():
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 9],  # cluster A
                          [20, 20, 30, 30], [22, 20, 32, 30],  # cluster B, IoU 0.67
                          [50, 50, 60, 60]], dtype=torch.float32)
    scores = torch.tensor([0.8, 0.9, 0.3, 0.6, 0.7, 0.1])
    expected = torch.tensor([1, 4, 5])  # best of A, best of B, the loner
    assert torch.equal(nms(boxes, scores, 0.5), expected)
    assert torch.equal(torchvision.ops.nms(boxes, scores, 0.5), expected)
    # a looser threshold keeps the B pair (IoU 0.67 < 0.7) — both agree again
    assert torch.equal(nms(boxes, scores, 0.7), torchvision.ops.nms(boxes, scores, 0.7))


def test_nms_matches_torchvision_on_random_boxes():
    g = torch.Generator().manual_seed(1)
    xy = torch.rand(60, 2, generator=g) * 80
    boxes = torch.cat([xy, xy + 4 + torch.rand(60, 2, generator=g) * 20], 1)
    scores = torch.rand(60, generator=g)
    for t in (0.3, 0.5):
        assert torch.equal(nms(boxes, scores, t), torchvision.ops.nms(boxes, scores, t))


def _recall(gt_boxes, found, iou=0.5) -> float:
    hit = n = 0
    for gt, f in zip(gt_boxes, found, strict=True):
        gt = torch.from_numpy(gt)
        n += len(gt)
        if len(gt) and len(f):
            hit += int((box_iou(gt, f).max(dim=1).values >= iou).sum())
    return hit / n


def test_proposals_find_the_pasted_digits(test_scenes):
    found = [propose(img) for img in test_scenes.images]
    assert _recall(test_scenes.boxes, found) >= 0.9
    assert np.mean([len(f) for f in found]) < 100  # a few proposals, not every window


def test_sliding_windows_can_match_every_digit(test_scenes):
    windows = sliding_windows(96, SlidingConfig())
    assert _recall(test_scenes.boxes, [windows] * len(test_scenes)) == 1.0
    assert len(windows) > 2000  # exhaustive: thousands of CNN calls per image


def test_training_boxes_are_labelled_by_iou(test_scenes):
    boxes, labels = sample_training_boxes(test_scenes, 4, np.random.default_rng(0))
    for b, lab, gt, gl in zip(boxes, labels, test_scenes.boxes, test_scenes.labels,
                                  strict=True):
        iou = box_iou(b, torch.from_numpy(gt)).max(dim=1)
        digit = lab != BACKGROUND
        assert (iou.values[digit] >= 0.5).all() and (iou.values[~digit] < 0.3).all()
        assert torch.equal(lab[digit], torch.from_numpy(gl)[iou.indices[digit]])
    crops = warp_crops(torch.from_numpy(test_scenes.images)[:, None], boxes, 24)
    assert crops.shape == (sum(len(b) for b in boxes), 1, 24, 24)
    assert CropCNN()(crops[:5]).shape == (5, 11)


def test_map50_is_one_for_the_truth_and_zero_for_wrong_labels():
    gt = [torch.tensor([[10.0, 10, 30, 40], [50, 50, 70, 80]])]
    lab = [torch.tensor([3, 5])]
    perfect = [{"boxes": gt[0], "scores": torch.tensor([0.9, 0.8]), "labels": lab[0]}]
    wrong = [{"boxes": gt[0], "scores": torch.tensor([0.9, 0.8]), "labels": lab[0] + 1}]
    assert mean_ap50(perfect, gt, lab) == pytest.approx(1.0)
    assert mean_ap50(wrong, gt, lab) == pytest.approx(0.0)


def test_faster_rcnn_trains_and_detects_in_digit_labels(test_scenes):
    model = build_faster_rcnn(96)
    images = torch.from_numpy(test_scenes.images)[:, None]
    boxes = [torch.from_numpy(b) for b in test_scenes.boxes]
    labels = [torch.from_numpy(x) for x in test_scenes.labels]
    losses = train_faster_rcnn(model, images, boxes, labels, steps=1, batch_size=2, lr=1e-3,
                               generator=torch.Generator().manual_seed(0),
                               device=torch.device("cpu"))
    assert len(losses) == 1 and all(np.isfinite(losses))
    out = FasterRCNNDetector(model)(images[0])
    assert set(out) == {"boxes", "scores", "labels"}
    assert ((out["labels"] >= 0) & (out["labels"] <= 9)).all()


def test_quick_detection_run_writes_metrics_and_figure(tmp_path):
    from introdl.experiment import get
    from introdl.runner import run_experiment

    r = run_experiment(get("detection"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["train_scenes=40", "test_scenes=2", "faster_steps=3", "epochs=1",
                             "n_show=1", "stride=12"], console=Console(quiet=True), progress=False)
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    for name in ("sliding", "rcnn", "faster"):
        assert 0.0 <= m[f"map50_{name}"] <= 1.0 and m[f"sec_per_image_{name}"] > 0
    assert (tmp_path / "r" / "detections.png").stat().st_size > 0
    assert r.figures == ["detections.png"]


def test_random_boxes_pad_rcnn_to_the_papers_proposal_count():
    from introdl.vision.detect.proposals import ProposalConfig
    from introdl.vision.detect.rcnn import random_boxes

    cfg = ProposalConfig()
    b = random_boxes(2000, (96, 80), cfg)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    assert b.shape == (2000, 4)
    assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all()
    assert (b[:, 2] <= 80).all() and (b[:, 3] <= 96).all()
    assert w.min() >= cfg.min_side and h.max() <= cfg.max_side
    assert torch.equal(b, random_boxes(2000, (96, 80), cfg))  # seeded
