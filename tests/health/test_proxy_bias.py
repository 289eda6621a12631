"""The cost-vs-need population simulator, the risk score, and a tiny proxy-bias run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.health.population import PopulationModel, simulate_population, top_share
from introdl.health.risk_model import fit_risk_score
from introdl.runner import run_experiment


def test_same_seed_same_population_and_group_is_not_a_feature():
    a, b = simulate_population(500, 3), simulate_population(500, 3)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.cost, b.cost)
    assert not np.array_equal(a.x, simulate_population(500, 4).x)
    assert a.x.shape == (500, 4 + PopulationModel().n_labs) and len(a.feature_names) == 9
    for col in a.x.T:  # no column is the group indicator
        assert not np.array_equal(col > 0.5, a.group_b)


def test_lower_access_means_less_cost_at_the_same_need():
    pop = simulate_population(40000, 0, PopulationModel(access_b=0.5))
    b, need = pop.group_b, pop.need
    for k in (2, 4, 6):  # equal need, group b costs about half as much
        ratio = pop.cost[b & (need == k)].mean() / pop.cost[~b & (need == k)].mean()
        assert 0.4 < ratio < 0.6, k
    equal = simulate_population(40000, 0, PopulationModel(access_b=1.0))
    ratio = (equal.cost[equal.group_b & (equal.need == 4)].mean()
             / equal.cost[~equal.group_b & (equal.need == 4)].mean())
    assert 0.9 < ratio < 1.1
    assert abs(pop.group_b.mean() - 0.12) < 0.01
    sicker = simulate_population(40000, 0, PopulationModel(burden_b=1.5))
    assert sicker.need[sicker.group_b].mean() > 1.3 * sicker.need[~sicker.group_b].mean()


def test_top_share_takes_the_largest_scores_and_breaks_ties_by_seed():
    score = np.array([5.0, 1.0, 3.0, 4.0, 2.0, 0.0, 6.0, 7.0, 8.0, 9.0])
    chosen = top_share(score, 0.3, np.random.default_rng(0))
    assert chosen.sum() == 3 and set(np.flatnonzero(chosen)) == {7, 8, 9}
    ties = np.zeros(100)
    picks = [np.flatnonzero(top_share(ties, 0.1, np.random.default_rng(s))) for s in (0, 0, 1)]
    assert np.array_equal(picks[0], picks[1]) and not np.array_equal(picks[0], picks[2])


def test_risk_score_learns_its_label():
    pop = simulate_population(4000, 1)
    score = fit_risk_score(pop.x, pop.need, seed=0, epochs=5)
    test = simulate_population(2000, 2)
    corr = np.corrcoef(score(test.x), test.need)[0, 1]
    assert corr > 0.6
    assert abs(score(test.x).mean() - test.need.mean()) < 0.5  # in the label's units


def test_tiny_run_writes_table_and_figures(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("proxy-bias"), out=out, quick=True, device="cpu",
                   sets=["patients=3000", "epochs=2"], console=Console(quiet=True),
                   progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["gap_removed"] == pytest.approx(
        (m["share_need"] - m["share_cost"]) / (m["share_ideal"] - m["share_cost"]))
    assert 0 < m["population_share"] < 0.3
    assert "Not real patients" in (out / "results.md").read_text()
    for name in ("need_by_percentile.png", "referred_share.png"):
        assert (out / name).stat().st_size > 5_000


def test_bad_referral_share_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="refer_top"):
        run_experiment(get("proxy-bias"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["refer_top=3"], console=Console(quiet=True), progress=False)
