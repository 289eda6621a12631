"""Meta-Sim2's pieces (rule counts, rule swap) and a tiny end-to-end run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.worlds.experiments.meta_sim2 import (
    car_histogram,
    choice_counts,
    rule_probs,
    with_rules,
)
from introdl.worlds.grammar import GrammarParams, sample_scenes, structure


def test_choice_counts_read_the_rules_back_from_the_scene_graphs():
    p = GrammarParams.real()
    scenes = sample_scenes(p, 30, 0)
    c = choice_counts(scenes, p)
    for i, s in enumerate(scenes):
        st = structure(s)
        assert c["lanes"][i].tolist() == np.eye(p.max_lanes)[st.n_lanes - 1].tolist()
        assert c["cars_per_lane"][i].sum() == st.n_lanes
        assert (c["cars_per_lane"][i] * np.arange(5)).sum() == st.n_cars
        assert c["building"][i].tolist() == [st.slots - st.buildings, st.buildings]


def test_with_rules_swaps_only_the_rules():
    prior, real = GrammarParams.prior(), GrammarParams.real()
    swapped = with_rules(prior, {k: np.asarray(v) for k, v in rule_probs(real).items()})
    assert swapped.lane_probs == real.lane_probs and swapped.p_building == real.p_building
    assert swapped.palette_probs == prior.palette_probs  # attributes untouched
    assert swapped.camera_height == prior.camera_height
    h = car_histogram(swapped, 400, 0)
    assert abs(h.mean() - car_histogram(real, 400, 1).mean()) < 0.5
    assert h.mean() > car_histogram(prior, 400, 0).mean() + 3


def test_tiny_run(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("meta-sim2"), out=out, quick=True, device="cpu",
                   sets=["steps=3", "groups=2", "group_size=8", "real_images=30",
                         "eval_images=30", "hist_samples=200"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["emd_prior"] > 3  # the prior is far from the busy "real" world
    assert m["emd_reduction"] == pytest.approx(1 - m["emd_learned"] / m["emd_prior"])
    rules = json.loads((out / "rules.json").read_text())
    assert len(rules["rewards"]) == 3
    assert rules["learned"]["lanes"] != pytest.approx(rules["prior"]["lanes"])  # it moved
    assert (out / "histograms.png").exists()


@pytest.mark.parametrize("bad", ["credit=sample", "groups=1", "bandwidths=0"])
def test_bad_config_is_one_clear_error(tmp_path, bad):
    with pytest.raises(UsageError, match=bad.split("=")[0]):
        run_experiment(get("meta-sim2"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[bad], console=Console(quiet=True), progress=False)
