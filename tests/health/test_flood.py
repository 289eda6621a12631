"""Flood forecasting: NSE, the real river series, HYMOD calibration, the simulator, the U-Net."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rich.console import Console
from sklearn.metrics import jaccard_score
from spotpy.objectivefunctions import nashsutcliffe

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.health.flood import hymod
from introdl.health.flood.hydraulics import simulate
from introdl.health.flood.nse import nse
from introdl.health.flood.rainfall_runoff import persistence_nse, windows
from introdl.health.flood.rivers import (
    hargreaves_pet,
    load_fulda,
    load_hymod_catchment,
    period_mask,
)
from introdl.health.flood.surrogate import UNet, hand_rule, inputs, iou
from introdl.health.flood.terrain import make_terrains
from introdl.runner import run_experiment


def test_flood_nse_is_one_for_a_perfect_forecast_and_zero_for_the_mean():
    obs = np.random.default_rng(0).gamma(2.0, 3.0, 500)
    assert nse(obs, obs) == pytest.approx(1.0)
    assert nse(obs, np.full_like(obs, obs.mean())) == pytest.approx(0.0, abs=1e-12)
    assert nse(obs, obs[::-1]) < 0.5


def test_flood_nse_matches_spotpy():
    rng = np.random.default_rng(1)
    obs = rng.gamma(2.0, 3.0, 300)
    sim = obs + rng.normal(0, 2, 300)
    assert nse(obs, sim) == pytest.approx(nashsutcliffe(obs, sim), rel=1e-12)


def test_flood_nse_refuses_bad_input():
    with pytest.raises(ValueError, match="shape"):
        nse([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="constant"):
        nse([2.0, 2.0], [1.0, 2.0])


def test_flood_fulda_series_is_complete_with_discharge():
    df = load_fulda()
    assert len(df) == 3653 and df.index[0].year == 1979 and df.index[-1].year == 1988
    assert not df[["prec", "q", "tmean", "pet"]].isna().any().any()
    # m3/s -> mm/day over 2976.41 km2: 31 m3/s is about 0.9 mm/day
    assert df["q_mm"].iloc[0] == pytest.approx(143 * 86400 / 2976.41e6 * 1000)
    assert 0.2 < df["q_mm"].sum() / df["prec"].sum() < 0.7  # a plausible runoff ratio


def test_flood_hymod_series_has_no_discharge_in_its_warmup_year():
    df = load_hymod_catchment()
    assert len(df) == 1827
    assert df["q"][df.index.year == 2012].isna().all()
    assert not df["q"][df.index.year >= 2013].isna().any()
    for part in ("train", "val", "test"):
        assert not df["q"][period_mask(df, "hymod", part)].isna().any()


def test_flood_hargreaves_pet_is_higher_in_summer():
    pet = hargreaves_pet(np.array([0.0, 12.0]), np.array([8.0, 26.0]), np.array([15, 196]),
                         50.6)
    assert 0 < pet[0] < 1 and 3 < pet[1] < 7


def test_flood_hymod_calibration_improves_on_the_training_years():
    df = load_hymod_catchment()
    train = period_mask(df, "hymod", "train")
    cal = hymod.calibrate(df["prec"], df["pet"], df["q_mm"], train, 60, seed=0)
    sim = hymod.simulate(df["prec"], df["pet"], cal.params)
    assert cal.train_nse == pytest.approx(nse(df["q_mm"][train], sim[train]))
    worst = hymod.simulate(df["prec"], df["pet"], [1.0, 2.0, 0.99, 0.1, 0.99])
    assert cal.train_nse > nse(df["q_mm"][train], worst[train]) and cal.train_nse > 0.3


def test_flood_lstm_windows_never_see_the_target_day_discharge():
    n, lookback = 50, 5
    q = np.arange(n, dtype=float) + 1
    stats = {"lq_mean": 0.0, "lq_std": 1.0, "lp_mean": 0.0, "lp_std": 1.0, "pet_mean": 0.0,
             "pet_std": 1.0}
    x, targets = windows(np.zeros(n), np.zeros(n), q, lookback, stats)
    # the last discharge in each window is the day before the target day
    assert np.allclose(np.expm1(x[:, -1, 0]), q[targets - 1])
    test = np.zeros(n, bool)
    test[10:] = True
    assert persistence_nse(q, test) == pytest.approx(nse(q[10:], q[9:-1]))


def test_flood_terrains_are_deterministic_and_roughness_acts_as_stated():
    a, b = make_terrains(3, 16, 7), make_terrains(3, 16, 7)
    assert np.array_equal(a.dem, b.dem) and np.array_equal(a.inflow_row, b.inflow_row)
    assert not np.array_equal(a.dem, make_terrains(3, 16, 8).dem)
    smooth = make_terrains(3, 16, 7, roughness=(0.0, 0.0)).dem
    rough = make_terrains(3, 16, 7, roughness=(1.0, 1.0)).dem
    assert np.std(rough - smooth, axis=(1, 2)) == pytest.approx(1.0, rel=1e-6)


def test_flood_simulator_conserves_water():
    t = make_terrains(4, 16, 0)
    res = simulate(t.dem, t.inflow_row, np.array([0.02, 0.1, 0.3, 0.5]), 400)
    assert (res.depth >= 0).all() and (res.outflow_total >= 0).all()
    np.testing.assert_allclose(res.stored() + res.outflow_total, res.inflow_total,
                               rtol=1e-12)
    assert res.outflow_total.max() > 0  # water does reach the outlet in some runs


def test_flood_simulator_without_an_outlet_stores_every_drop():
    dem = np.zeros((1, 8, 8))
    dem[0, :, -1] = 100.0  # a wall in front of the outlet column: nothing drains
    res = simulate(dem, np.array([3]), 0.5, 300)
    assert res.outflow_total[0] == 0
    assert res.stored()[0] == pytest.approx(150.0, rel=1e-12)
    assert res.depth[0, :, :-1].min() > 1.0  # the water spreads over the whole flat basin


def test_flood_simulator_is_mirror_symmetric_and_more_inflow_floods_more():
    t = make_terrains(2, 16, 3)
    res = simulate(t.dem, t.inflow_row, 0.2, 300)
    flipped = simulate(t.dem[:, ::-1], 15 - t.inflow_row, 0.2, 300)
    np.testing.assert_allclose(flipped.depth[:, ::-1], res.depth, atol=1e-12)
    more = simulate(t.dem, t.inflow_row, 0.5, 300)
    assert (more.flooded().sum(axis=(1, 2)) > res.flooded().sum(axis=(1, 2))).all()


def test_flood_unet_maps_the_grid_and_the_threshold_rule_grows_with_inflow():
    t = make_terrains(2, 16, 0)
    rate = np.array([0.05, 0.4])
    x = inputs(t.dem, t.inflow_row, rate)
    assert x.shape == (2, 3, 16, 16)
    assert UNet(3, 4)(x).shape == (2, 16, 16)
    small = hand_rule(t.dem, np.array([0.05, 0.05]), 0.5, 0.5).sum()
    large = hand_rule(t.dem, np.array([0.4, 0.4]), 0.5, 0.5).sum()
    assert large > small
    assert iou(np.ones((2, 2), bool), np.eye(2, dtype=bool)) == pytest.approx(0.5)
    pred, truth = hand_rule(t.dem, rate, 0.5, 0.5), hand_rule(t.dem, rate, 1.0, 0.5)
    assert iou(pred, truth) == pytest.approx(jaccard_score(truth.ravel(), pred.ravel()))


def test_flood_tiny_run_reports_both_parts(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "r"
    run_experiment(get("flood"), out=out, quick=True, device="cpu",
                   sets=["catchments=hymod", "hymod_reps=60", "lstm_epochs=3", "size=16",
                         "steps=150", "n_train=16", "n_val=8", "n_test=8", "unet_epochs=2",
                         "timing_batch=8", "timing_repeats=1", "width=4"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["lstm_minus_persistence_nse"] == pytest.approx(
        m["hymod_lstm_nse"] - m["hymod_persistence_nse"])
    assert m["hymod_persistence_nse"] == pytest.approx(0.7775, abs=1e-3)  # real data, fixed
    assert m["water_balance_rel_error"] < 1e-9
    assert 0 <= m["unet_iou"] <= 1 and m["speedup"] > 0
    assert "simulated" in (out / "results.md").read_text()
    for name in ("hydrographs.png", "floods.png"):
        assert (out / name).stat().st_size > 5_000


def test_flood_bad_size_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="multiple of 4"):
        run_experiment(get("flood"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["size=30"], console=Console(quiet=True), progress=False)
