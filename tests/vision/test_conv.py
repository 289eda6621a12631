"""Convolution and pooling from the definition: parity with torch, the lecture's 5x5 example."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from rich.console import Console

from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.vision.conv import EDGE_DETECT, apply_filter, avg_pool2d, conv2d, max_pool2d
from introdl.vision.experiments.convolution import (
    LECTURE_FEATURE_MAP,
    LECTURE_FILTER,
    LECTURE_IMAGE,
)


def test_lecture_5x5_image_and_3x3_filter_give_the_slide_feature_map():
    x = torch.tensor(LECTURE_IMAGE, dtype=torch.float64)[None, None]
    w = torch.tensor(LECTURE_FILTER, dtype=torch.float64)[None, None]
    out = conv2d(x, w)
    assert out.shape == (1, 1, 3, 3)
    assert out[0, 0].tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]] == LECTURE_FEATURE_MAP


@pytest.mark.parametrize("seed", range(6))
def test_conv2d_equals_torch_for_random_shapes_strides_and_paddings(seed):
    g = torch.Generator().manual_seed(seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))  # noqa: E731
    n, c, f, kh, kw = r(1, 3), r(1, 3), r(1, 4), r(1, 4), r(1, 4)
    stride, padding = r(1, 3), r(0, 2)
    x = torch.randn(n, c, r(kh, 9), r(kw, 9), generator=g, dtype=torch.float64)
    w = torch.randn(f, c, kh, kw, generator=g, dtype=torch.float64)
    b = torch.randn(f, generator=g, dtype=torch.float64)
    ours = conv2d(x, w, b, stride=stride, padding=padding)
    ref = F.conv2d(x, w, b, stride=stride, padding=padding)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_max_and_mean_pooling_equal_torch(seed):
    g = torch.Generator().manual_seed(100 + seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))  # noqa: E731
    k = r(1, 3)
    stride, padding = r(1, 3), r(0, k // 2)  # torch allows padding <= kernel / 2
    x = torch.randn(r(1, 3), r(1, 3), r(k, 9), r(k, 9), generator=g, dtype=torch.float64)
    torch.testing.assert_close(max_pool2d(x, k, stride, padding),
                               F.max_pool2d(x, k, stride, padding), rtol=0, atol=0)
    torch.testing.assert_close(avg_pool2d(x, k, stride, padding),
                               F.avg_pool2d(x, k, stride, padding), rtol=1e-12, atol=1e-12)


def test_pooling_stride_defaults_to_the_window():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert max_pool2d(x, 2)[0, 0].tolist() == [[5.0, 7.0], [13.0, 15.0]]
    assert avg_pool2d(x, 2)[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]


def test_conv2d_rejects_mismatched_channels():
    with pytest.raises(ValueError, match="channels"):
        conv2d(torch.zeros(1, 3, 5, 5), torch.zeros(2, 1, 3, 3))


def test_edge_filter_is_zero_on_flat_regions_and_keeps_size():
    img = torch.zeros(8, 8, dtype=torch.float64)
    img[:, 4:] = 1.0  # a vertical step edge
    out = apply_filter(img, EDGE_DETECT)
    assert out.shape == (8, 8)
    assert out[2:-2, 1:3].abs().max() == 0 and out[2:-2, 5:7].abs().max() == 0
    assert out[2:-2, 3].abs().min() == 1 and out[2:-2, 4].abs().min() == 1


def test_convolution_experiment_claims_the_exact_map_and_writes_figures(tmp_path):
    r = run_experiment(get("convolution"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["size=24"], console=Console(quiet=True), progress=False)
    assert r.passed
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["feature_map_matches"] == 1.0
    assert metrics["feature_map_10"] == 2.0
    for name in ("worked_example.png", "filters.png"):
        assert (tmp_path / "r" / name).stat().st_size > 5_000
