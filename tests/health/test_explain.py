"""Saliency shares on models whose answer is known, and the explain experiment end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rich.console import Console
from torch import nn

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.health.saliency import area_share, attribution_maps, mask_share, median_baseline
from introdl.runner import run_experiment


class TopLeft(nn.Module):
    """Reads only the top-left 4x4 pixels (non-linearly), so all attribution must lie there."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x[:, :, :4, :4] ** 2).sum(dim=(1, 2, 3))[:, None]


def test_toy_model_gets_all_its_attribution_where_it_reads():
    x = torch.rand(5, 3, 16, 16, generator=torch.Generator().manual_seed(0)).numpy()
    region = np.zeros((5, 16, 16), bool)
    region[:, :4, :4] = True
    for method, baseline in (("ig", "median"), ("ig", "black"), ("grad", "median")):
        maps = attribution_maps(TopLeft(), x, method, ig_steps=8, baseline=baseline)
        assert maps.shape == (5, 16, 16)
        assert maps[:, :4, :4].min() > 0
        assert mask_share(maps, region) == pytest.approx(np.ones(5))
        assert mask_share(maps, ~region) == pytest.approx(np.zeros(5))
    assert area_share(region) == pytest.approx(np.full(5, 16 / 256))


def test_gradient_map_matches_autograd_by_hand():
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 1))
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    maps = attribution_maps(model, x.numpy(), "grad")
    w = model[1].weight.detach().reshape(3, 8, 8).abs().sum(0)
    assert maps == pytest.approx(np.broadcast_to(w.numpy(), (2, 8, 8)), rel=1e-5)


def test_mask_share_by_hand():
    maps = np.array([[[1.0, -3.0], [0.0, 4.0]]])
    mask = np.array([[[True, True], [False, False]]])
    assert mask_share(maps, mask)[0] == pytest.approx(4 / 8)
    assert np.isnan(mask_share(np.zeros((1, 2, 2)), mask)[0])


def test_median_baseline_is_the_image_median_colour():
    x = torch.arange(2 * 3 * 3 * 3, dtype=torch.float32).reshape(2, 3, 3, 3)
    b = median_baseline(x)
    assert b.shape == x.shape
    assert b[1, 2].unique().item() == x[1, 2].flatten().median().item()


def test_tiny_run_reports_shares_and_clusters(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("explain"), out=out, quick=True, device="cpu",
                   sets=["n_train=240", "n_test=90", "n_explain=12", "steps=10", "ig_steps=4",
                         "clusters=3"], console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for model in ("clean", "shortcut"):
        for meth in ("ig", "grad"):
            assert 0 <= m[f"{model}_{meth}_lesion_share"] <= 1
            assert 0 <= m[f"{model}_{meth}_cue_share"] <= 1
    assert m["ig_lesion_share_drop"] == pytest.approx(
        m["clean_ig_lesion_share"] - m["shortcut_ig_lesion_share"])
    assert 0 < m["lesion_area_share"] < 0.5
    assert m["top_cluster_malignant_share"] >= m["malignant_base_rate"]
    assert 0 <= m["similar_same_label_at5"] <= 1
    assert "simulated" in (out / "results.md").read_text().lower()
    for name in ("saliency.png", "clusters.png"):
        assert (out / name).stat().st_size > 5_000


def test_bad_shortcut_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="shortcut") as e:
        run_experiment(get("explain"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["shortcut=ruler"], console=Console(quiet=True), progress=False)
    assert "\n" not in str(e.value)
