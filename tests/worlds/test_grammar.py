"""The scene grammar: samples obey its rules, are seeded, and follow its probabilities."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import chisquare

from introdl.worlds.grammar import (
    LANE_WIDTH,
    GrammarParams,
    lane_centres,
    sample_scene,
    sample_scenes,
    structure,
)


@pytest.fixture(scope="module")
def scenes():
    return {"prior": sample_scenes(GrammarParams.prior(), 1500, seed=0),
            "real": sample_scenes(GrammarParams.real(), 1500, seed=1)}


def _half_x(car) -> float:
    a = car.attrs
    return 0.5 * (a["width"] * math.cos(a["heading"]) + a["length"] * abs(math.sin(a["heading"])))


def _half_z(car) -> float:
    a = car.attrs
    return 0.5 * (a["length"] * math.cos(a["heading"]) + a["width"] * abs(math.sin(a["heading"])))


@pytest.mark.parametrize("which", ["prior", "real"])
def test_samples_obey_the_rules(scenes, which):
    p = getattr(GrammarParams, which)()
    for s in scenes[which]:
        assert [n.kind for n in s.children] == ["road", "side", "side"]
        lanes = s.find("lane")
        assert 1 <= len(lanes) <= p.max_lanes
        assert s.find("road")[0].attrs["width"] == pytest.approx(len(lanes) * LANE_WIDTH)
        assert np.allclose([ln.attrs["x"] for ln in lanes], lane_centres(len(lanes)))
        lo, hi = p.camera_height
        assert lo <= s.attrs["camera_height"] <= hi
        assert p.camera_pitch[0] <= s.attrs["camera_pitch"] <= p.camera_pitch[1]
        for lane in lanes:
            cars = lane.find("car")
            assert len(cars) <= p.max_cars_per_lane
            for c in cars:  # inside its lane, sizes and heading in range, on the road stretch
                a = c.attrs
                assert abs(a["x"] - lane.attrs["x"]) + _half_x(c) <= LANE_WIDTH / 2 + 1e-9
                assert p.car_width[0] <= a["width"] <= p.car_width[1]
                assert p.car_length[0] <= a["length"] <= p.car_length[1]
                assert p.car_height[0] <= a["height"] <= p.car_height[1]
                assert abs(a["heading"]) <= 2 * p.heading_spread + 1e-12
                assert p.z_near <= a["z"] - _half_z(c) and a["z"] + _half_z(c) <= p.z_far
                assert all(0 <= a[k] <= 1 for k in "rgb")
            zs = sorted(cars, key=lambda c: c.attrs["z"])
            for c1, c2 in zip(zs, zs[1:], strict=False):  # no two cars overlap along the lane
                assert c2.attrs["z"] - _half_z(c2) > c1.attrs["z"] + _half_z(c1)
        road_half = len(lanes) * LANE_WIDTH / 2
        for n in s.find("building") + s.find("tree"):  # beside the road, never on it
            assert abs(n.attrs["x"]) - n.attrs["width"] / 2 > road_half
        for n in s.find("pedestrian"):  # on the pavement
            assert road_half < abs(n.attrs["x"]) < road_half + 2.0


def test_same_seed_same_scene_and_seed_matters():
    p = GrammarParams.prior()
    assert sample_scene(p, 7) == sample_scene(p, 7)
    assert sample_scene(p, 7) != sample_scene(p, 8)
    assert sample_scenes(p, 5, 3) == sample_scenes(p, 5, 3)


def _counts(values, k):
    return np.bincount(np.asarray(values), minlength=k)[:k]


@pytest.mark.parametrize("which", ["prior", "real"])
def test_rule_frequencies_match_the_probabilities(scenes, which):
    p = getattr(GrammarParams, which)()
    st = [structure(s) for s in scenes[which]]
    lanes = _counts([s.n_lanes - 1 for s in st], p.max_lanes)
    cars = _counts([k for s in st for k in s.cars_per_lane], p.max_cars_per_lane + 1)
    for obs, probs in ((lanes, p.lane_probs), (cars, p.cars_per_lane_probs)):
        probs = np.asarray(probs) / np.sum(probs)
        assert chisquare(obs, probs * obs.sum()).pvalue > 1e-3
        wrong = np.roll(probs, 1)  # the test can fail: a shifted distribution is rejected
        assert chisquare(obs, wrong * obs.sum()).pvalue < 1e-6
    slots = sum(s.slots for s in st)
    assert abs(sum(s.buildings for s in st) / slots - p.p_building) < 0.03
    peds = sum(len(s.find("pedestrian")) for s in scenes[which]) / (2 * len(st))
    assert abs(peds - p.p_pedestrian) < 0.04


def test_a_stated_parameter_changes_the_scenes_as_stated():
    p = replace(GrammarParams.prior(), lane_probs=(0, 0, 1), cars_per_lane_probs=(0, 0, 1),
                p_building=0.0, p_tree=0.0, p_pedestrian=1.0)
    for s in sample_scenes(p, 50, 0):
        st = structure(s)
        assert st.n_lanes == 3 and st.cars_per_lane == (2, 2, 2) and st.buildings == 0
        assert not s.find("tree") and len(s.find("pedestrian")) == 2
    prior = np.mean([structure(s).n_cars for s in sample_scenes(GrammarParams.prior(), 300, 0)])
    real = np.mean([structure(s).n_cars for s in sample_scenes(GrammarParams.real(), 300, 0)])
    assert real > 2 * prior  # the hidden real world is busier, as its docstring says


def test_check_rejects_bad_parameters():
    GrammarParams.prior().check()
    GrammarParams.real().check()
    with pytest.raises(ValueError, match="lane_probs"):
        replace(GrammarParams.prior(), lane_probs=(0.5, -0.1)).check()
    with pytest.raises(ValueError, match="do not fit"):
        replace(GrammarParams.prior(), cars_per_lane_probs=(1,) * 8).check()
    with pytest.raises(ValueError, match="p_building"):
        replace(GrammarParams.prior(), p_building=1.5).check()

