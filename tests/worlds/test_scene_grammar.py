"""A tiny end-to-end scene-grammar run, and its config validation."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment


def test_tiny_run_measures_rule_frequencies_and_labels(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("scene-grammar"), out=out, quick=True, device="cpu",
                   sets=["samples=400", "renders=20", "show=2"], console=Console(quiet=True),
                   progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert 0 <= m["max_rule_freq_error"] < 0.1  # 400 scenes: a few percent at most
    assert m["max_rule_freq_error"] == max(m["rule_freq_error_prior"], m["rule_freq_error_real"])
    assert 0 <= m["max_rule_z"] < 4.5
    assert m["box_label_agreement"] == 1.0 and m["object_box_coverage"] > 0.9
    assert m["cars_per_scene_real"] > m["cars_per_scene_prior"]
    assert m["render_ms"] > 0
    assert (out / "samples.png").exists() and (out / "rule_frequencies.png").exists()
    assert "simulated" in (out / "results.md").read_text() or \
        "generated" in (out / "results.md").read_text()


@pytest.mark.parametrize("bad", ["samples=10", "size=8", "show=0"])
def test_bad_config_is_one_clear_error(tmp_path, bad):
    with pytest.raises(UsageError, match=bad.split("=")[0]):
        run_experiment(get("scene-grammar"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[bad], console=Console(quiet=True), progress=False)
