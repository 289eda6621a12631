"""A tiny end-to-end road-graphs run, and its config errors."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment

TINY = ["proc_train=1", "proc_test=1", "orders=1", "epochs=1", "hidden=16", "samples=1",
        "max_nodes=40"]


def test_tiny_run_writes_table_metrics_and_figures(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("road-graphs"), out=out, quick=True, device="cpu", sets=TINY,
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= m["own_city_wins"] <= 1.0 and m["cond_over_uncond"] > 0
    assert m["train_to_heldout"] > 0 and m["final_loss"] > 0
    text = (out / "results.md").read_text()
    assert "procedurally generated (simulated)" in text and "OpenStreetMap" in text
    for city in ("helsinki", "test-town", "grid", "radial", "organic", "any city"):
        assert city in text
    for name in ("road-graphs-maps.png", "road-graphs-distances.png",
                 "road-graphs-extend.png"):
        assert (out / name).stat().st_size > 5_000


@pytest.mark.parametrize("bad", ["snap=50", "extent=50", "epochs=0"])
def test_bad_config_is_one_line(tmp_path, bad):
    with pytest.raises(UsageError, match=bad.split("=")[0]):
        run_experiment(get("road-graphs"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[bad], console=Console(quiet=True), progress=False)


def test_procedural_training_windows_cannot_reach_the_held_out_seeds(tmp_path):
    with pytest.raises(UsageError, match="proc_train=51.*seed offset 50"):
        run_experiment(get("road-graphs"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["proc_train=51"], console=Console(quiet=True), progress=False)
    assert not (tmp_path / "r" / "metrics.json").exists()


def test_a_city_left_without_windows_is_named_before_training(tmp_path):
    with pytest.raises(UsageError, match="min_edges=100000 leaves helsinki with 0 training"):
        run_experiment(get("road-graphs"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["min_edges=100000"], console=Console(quiet=True), progress=False)
    assert not (tmp_path / "r" / "metrics.json").exists()
