"""The scene detector: trains on easy scenes to beat an untrained one; mAP of the truth is 1."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from introdl.worlds.detector import build_detector, detection_map, train_detector


def _boxes_scenes(n: int, seed: int):
    """Grey 64 x 64 canvases with 1-2 red boxes (class 0) of 8-18 px."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.full((n, 3, 64, 64), 0.4)
    boxes, labels = [], []
    for i in range(n):
        bs = []
        for _ in range(int(torch.randint(1, 3, (1,), generator=gen))):
            w, h = (int(v) for v in torch.randint(8, 19, (2,), generator=gen))
            x0, y0 = (int(v) for v in torch.randint(0, 64 - 18, (2,), generator=gen))
            images[i, :, y0:y0 + h, x0:x0 + w] = torch.tensor([0.9, 0.1, 0.1])[:, None, None]
            bs.append([x0, y0, x0 + w, y0 + h])
        boxes.append(torch.tensor(bs, dtype=torch.float32))
        labels.append(torch.zeros(len(bs), dtype=torch.long))
    return images, boxes, labels


class _Oracle(nn.Module):
    """Returns the ground truth as torchvision-style output, in order (labels shifted +1)."""

    def __init__(self, boxes, labels):
        super().__init__()
        self.out = [{"boxes": b, "scores": torch.ones(len(b)), "labels": lab + 1}
                    for b, lab in zip(boxes, labels, strict=True)]
        self.i = 0

    def forward(self, images):
        self.i += 1
        return [self.out[self.i - 1]]


def test_perfect_predictions_score_one():
    images, boxes, labels = _boxes_scenes(6, seed=3)
    assert detection_map(_Oracle(boxes, labels), images, boxes, labels) == pytest.approx(1.0)


def test_a_short_training_beats_an_untrained_detector():
    torch.set_num_threads(1)
    images, boxes, labels = _boxes_scenes(48, seed=0)
    test = _boxes_scenes(16, seed=1)
    model = train_detector(images, boxes, labels, epochs=8, seed=0)
    trained = detection_map(model, *test)
    torch.manual_seed(0)
    untrained = detection_map(build_detector(64, 1), *test)
    assert trained > untrained + 0.3


def test_bad_input_is_refused():
    images, boxes, labels = _boxes_scenes(2, seed=0)
    with pytest.raises(ValueError, match="epochs"):
        train_detector(images, boxes, labels, epochs=0, seed=0)
