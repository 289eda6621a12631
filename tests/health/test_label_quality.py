"""Label quality (Lecture 12): fundus simulator, simulated graders, kappa, and a tiny run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console
from sklearn.metrics import cohen_kappa_score

from introdl.errors import DataUnavailable, UsageError
from introdl.experiment import get
from introdl.health.agreement import pairwise_agreement, quadratic_kappa, quadratic_kappa_by_hand
from introdl.health.fundus import FundusParams, grade_of, lesion_counts, render, simulate
from introdl.health.graders import (
    SCHEMES,
    delphi,
    label,
    lower_median,
    make_panel,
    read_all,
    vote,
)
from introdl.runner import run_experiment


def test_simulator_is_deterministic_per_seed():
    a, b, c = simulate(12, 3), simulate(12, 3), simulate(12, 4)
    assert a.images.shape == (12, 3, 48, 48) and a.images.dtype == np.float32
    assert np.array_equal(a.images, b.images) and np.array_equal(a.grade, b.grade)
    assert not np.array_equal(a.images, c.images)
    assert 0 <= a.images.min() and a.images.max() <= 1


def test_grade_rule_more_and_larger_lesions_mean_a_higher_grade():
    assert list(grade_of([0.2, 0.99, 1.0, 2.5, 3.7, 4.99])) == [0, 0, 1, 2, 3, 4]
    s = np.linspace(0, 4.99, 200)
    counts = np.array([lesion_counts(v) for v in s])
    assert (counts[s < 1] == 0).all()  # grade 0: no lesion
    assert (np.diff(counts, axis=0) >= 0).all() and (np.diff(grade_of(s)) >= 0).all()
    # the lesion types arrive with the grades: MAs at 1, haemorrhages at 2, exudates at 3
    for g, kinds in ((1, [1, 0, 0]), (2, [1, 1, 0]), (3, [1, 1, 1])):
        assert list((np.array(lesion_counts(g + 0.1)) > 0).astype(int)) == kinds
    # same background (same seed), higher severity -> more of the image covered by lesions
    base, _ = render(0.5, np.random.default_rng(7))
    changed = [np.abs(render(v, np.random.default_rng(7))[0] - base).max(axis=2) > 0.05
               for v in (1.2, 2.5, 3.5, 4.9)]
    area = [c.mean() for c in changed]
    assert area[0] > 0 and all(x < y for x, y in zip(area, area[1:], strict=False))
    # a stated parameter: contrast 0 makes the lesions invisible
    flat, _ = render(4.9, np.random.default_rng(7), FundusParams(contrast=0.0))
    assert np.allclose(flat, base, atol=1e-6)


def test_graders_agree_about_sixty_percent_pairwise():
    for seed in range(3):
        rng = np.random.default_rng(seed)
        s = rng.uniform(0, 5, 20000)
        exact, kappa = pairwise_agreement(read_all(make_panel(seed=seed), s, rng))
        assert 0.56 <= exact <= 0.64, exact
        assert 0.8 < kappa < 0.95
    # noisier graders agree less
    rng = np.random.default_rng(0)
    s = rng.uniform(0, 5, 20000)
    assert pairwise_agreement(read_all(make_panel(noise=0.8), s, rng))[0] < 0.5


def test_majority_and_delphi_agree_more_with_the_truth():
    rng = np.random.default_rng(1)
    s = rng.uniform(0, 5, 20000)
    truth = grade_of(s)
    panel = make_panel(seed=1)
    acc = {sc: float(np.mean(label(sc, panel, s, rng) == truth)) for sc in SCHEMES}
    kap = {sc: quadratic_kappa(label(sc, panel, s, rng), truth) for sc in SCHEMES}
    assert acc["single"] + 0.08 < acc["majority-3"] < acc["majority-5"] - 0.02
    assert acc["delphi"] >= acc["majority-5"] - 0.01
    assert kap["single"] < kap["majority-3"] < kap["majority-5"] <= kap["delphi"] + 0.005


def test_vote_and_delphi_rules():
    assert list(vote(np.array([[0, 0, 1, 1, 2], [3, 3, 3, 0, 4], [1, 2, 2, 1, 4]]))) == [1, 3, 2]
    assert list(lower_median(np.array([[4, 0, 1, 3], [2, 2, 0, 1]]))) == [1, 1]
    panel = make_panel(seed=2)
    s = np.random.default_rng(2).uniform(0, 5, 3000)
    r0 = delphi(panel, s, np.random.default_rng(5), rounds=0)  # no revision: the median read
    assert np.array_equal(r0.label, lower_median(r0.first)) and (r0.rounds == 0).all()
    r3 = delphi(panel, s, np.random.default_rng(5), rounds=3, weight=0.5)
    assert np.array_equal(r3.first, r0.first)  # same reads, then revisions
    assert r3.consensus.mean() > r0.consensus.mean() + 0.3
    assert (r3.rounds <= 3).all() and (r3.rounds[r0.consensus] == 0).all()


def test_kappa_matches_scikit_learn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(5, 300))
        a, b = rng.integers(0, 5, n), rng.integers(0, 5, n)
        b = np.where(rng.uniform(size=n) < 0.6, a, b)  # some agreement
        ref = cohen_kappa_score(a, b, weights="quadratic")
        assert quadratic_kappa(a, b) == pytest.approx(ref)
        assert quadratic_kappa_by_hand(a, b) == pytest.approx(ref)
    assert quadratic_kappa([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]) == pytest.approx(1.0)
    assert quadratic_kappa(np.zeros(10, int), np.arange(10) % 5) == 0.0  # constant guess


def test_tiny_run_writes_both_panels_and_the_claimed_numbers(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("label-quality"), out=out, quick=True, device="cpu",
                   sets=["sizes=40,80", "test=60", "steps=4", "image_size=32",
                         "schemes=single,majority-3,delphi"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for key in ("grader_pairwise_agreement", "label_acc_single", "label_acc_delphi",
                "kappa_single_n40", "kappa_single_n80", "kappa_majority3_fixed_n",
                "kappa_delphi_fixed_n", "baseline_majority_grade_kappa"):
        assert key in m
    assert m["fixed_n"] == 40
    assert m["label_gain_kappa"] == pytest.approx(m["kappa_delphi_fixed_n"]
                                                  - m["kappa_single_n40"])
    assert m["doubling_gain_kappa"] == pytest.approx(m["kappa_single_n80"]
                                                     - m["kappa_single_n40"])
    assert "simulated" in (out / "results.md").read_text()
    for name in ("panels.png", "examples.png"):
        assert (out / name).stat().st_size > 5_000


def test_bad_config_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="start with single") as e:
        run_experiment(get("label-quality"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["schemes=delphi,single"], console=Console(quiet=True),
                       progress=False)
    assert "\n" not in str(e.value)


def test_missing_retinamnist_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="retinamnist") as e:
        run_experiment(get("label-quality"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["data=retinamnist"], console=Console(quiet=True), progress=False)
    assert "\n" not in str(e.value)


def test_retinamnist_labels_are_the_truth_and_graders_are_simulated_on_them(tmp_path,
                                                                            monkeypatch):
    import introdl.health.medmnist as medmnist

    rng = np.random.default_rng(0)

    def fake(name):  # the real file's layout: uint8 (n, 28, 28, 3) images, grades 0-4
        def part(n):
            return rng.integers(0, 256, (n, 28, 28, 3), dtype=np.uint8), rng.integers(0, 5, n)
        (xt, yt), (xv, yv), (xs, ys) = part(90), part(10), part(60)
        return medmnist.MedMNIST(name, xt, yt, xv, yv, xs, ys)

    monkeypatch.setattr(medmnist, "load_medmnist", fake)
    out = tmp_path / "r"
    run_experiment(get("label-quality"), out=out, quick=True, device="cpu",
                   sets=["data=retinamnist", "sizes=40,80,500", "steps=3"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert m["fixed_n"] == 40 and "kappa_single_n500" not in m  # 500 > 90 training images
    assert "RetinaMNIST" in (out / "results.md").read_text()
    assert 0.45 < m["grader_pairwise_agreement"] < 0.75
