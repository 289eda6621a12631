"""Skin-lesion simulator, Fairlearn subgroup wiring and the fairness-skin experiment end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console

from introdl.errors import DataUnavailable
from introdl.experiment import get
from introdl.health import subgroups
from introdl.health.skin import lesion_contrast, simulate
from introdl.runner import run_experiment


def test_simulator_is_deterministic_per_seed():
    a, b, c = simulate(12, 3), simulate(12, 3), simulate(12, 4)
    for f in ("images", "labels", "skin_type", "mask", "cue_mask"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.images, c.images)
    assert a.images.shape == (12, 3, 32, 32) and a.images.dtype == np.float32
    assert 0 <= a.images.min() and a.images.max() <= 1
    assert set(np.unique(a.skin_type)) <= set(range(1, 7))


def test_darker_skin_type_lowers_lesion_contrast():
    light = simulate(150, 0, type_probs=(1, 0, 0, 0, 0, 0))
    dark = simulate(150, 0, type_probs=(0, 0, 0, 0, 0, 1))
    assert (light.skin_type == 1).all() and (dark.skin_type == 6).all()
    # the same lesions (same seed), drawn on type VI skin, stand out less
    assert lesion_contrast(dark).mean() < 0.6 * lesion_contrast(light).mean()
    assert light.images.mean() > dark.images.mean() + 0.2


def test_malignant_lesions_are_larger_as_stated():
    d = simulate(300, 1)
    area = d.mask.mean(axis=(1, 2))
    assert area[d.labels == 1].mean() > 1.3 * area[d.labels == 0].mean()


def test_marker_shortcut_correlates_in_training_only():
    train = simulate(1500, 2, shortcut="marker", cue=0.9)
    test = simulate(1500, 3, shortcut="marker", cue=0.0)
    on_train = train.cue_mask.any(axis=(1, 2))
    on_test = test.cue_mask.any(axis=(1, 2))
    # phi coefficient of (marker, label): cue in training, 0 at test
    assert np.corrcoef(on_train, train.labels)[0, 1] == pytest.approx(0.9, abs=0.05)
    assert abs(np.corrcoef(on_test, test.labels)[0, 1]) < 0.08
    assert on_test.mean() == pytest.approx(0.5, abs=0.05)
    assert not (train.cue_mask & train.mask).any()  # the artefact lies off the lesion


def test_tone_shortcut_ties_label_to_skin_type_in_training_only():
    train = simulate(2000, 4, shortcut="tone", cue=0.8)
    test = simulate(2000, 5, shortcut="tone", cue=0.0)
    assert np.corrcoef(train.skin_type, train.labels)[0, 1] > 0.3
    assert abs(np.corrcoef(test.skin_type, test.labels)[0, 1]) < 0.06
    assert not train.cue_mask.any()


# --- Fairlearn wiring, against numbers worked out by hand -------------------------------

Y = np.array([1, 1, 0, 0, 1, 1, 1, 0, 0, 0])
P = np.array([1, 0, 0, 1, 1, 1, 0, 0, 0, 0])
G = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "b", "b"])


def test_metric_frame_matches_hand_counts():
    by = subgroups.subgroup_frame(Y, P, G).by_group
    # group a: y=1,1,0,0 p=1,0,0,1 -> TP 1 FN 1 TN 1 FP 1
    assert by.loc["a", "sensitivity"] == pytest.approx(1 / 2)
    assert by.loc["a", "specificity"] == pytest.approx(1 / 2)
    assert by.loc["a", "accuracy"] == pytest.approx(2 / 4)
    assert by.loc["a", "selection_rate"] == pytest.approx(2 / 4)
    # group b: y=1,1,1,0,0,0 p=1,1,0,0,0,0 -> TP 2 FN 1 TN 3 FP 0
    assert by.loc["b", "sensitivity"] == pytest.approx(2 / 3)
    assert by.loc["b", "specificity"] == pytest.approx(1.0)
    assert by.loc["b", "accuracy"] == pytest.approx(5 / 6)
    assert by.loc["b", "selection_rate"] == pytest.approx(2 / 6)
    # equalised odds: max(|TPR gap| = 1/6, |FPR gap| = 1/2 - 0)
    assert subgroups.equalized_odds_gap(Y, P, G) == pytest.approx(0.5)


def test_inverse_frequency_weights_balance_groups():
    w = subgroups.inverse_frequency_weights(G)
    assert w[G == "a"].sum() == pytest.approx(w[G == "b"].sum())
    assert w.mean() == pytest.approx(1.0)


def test_abstention_and_deploy_rules():
    frame = subgroups.subgroup_frame(Y, P, G)
    assert subgroups.abstaining_groups(frame, 0.6) == ["a"]  # a: 0.5/0.5; b: 0.67/1.0
    assert subgroups.abstaining_groups(frame, 0.7) == ["a", "b"]  # b's sensitivity 0.67
    ok, why = subgroups.deploy_decision(frame, 0.6)
    assert not ok and "a: sensitivity 0.50" in why
    assert subgroups.deploy_decision(frame, 0.4)[0]
    cov = subgroups.coverage_report(Y, P, G, ["a"])
    assert cov.coverage == pytest.approx(0.6)
    assert list(cov.frame.by_group.index) == ["b"]


def test_group_thresholds_equalise_odds_on_the_validation_split():
    rng = np.random.default_rng(0)
    n = 2000
    g = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    # group 1's scores are shifted up: at 0.5 it is over-called (higher TPR and FPR)
    s = 1 / (1 + np.exp(-(2.5 * (2 * y - 1) + 1.5 * g + rng.normal(0, 1.5, n))))
    before = subgroups.equalized_odds_gap(y, s >= 0.5, g)
    opt = subgroups.fit_group_thresholds(s, y, g)
    after = subgroups.equalized_odds_gap(y, subgroups.apply_group_thresholds(opt, s, g, 0), g)
    assert before > 0.15 and after < before / 2


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Run fairness-skin at toy size; record what the threshold optimiser was fitted on."""
    import introdl.health.experiments.fairness_skin as mod

    seen = []

    def spy(scores, labels, groups, **kw):
        seen.append(len(labels))
        return subgroups.fit_group_thresholds(scores, labels, groups, **kw)

    monkeypatch.setattr(mod, "fit_group_thresholds", spy)
    out = tmp_path / "r"
    run_experiment(get("fairness-skin"), out=out, quick=True, device="cpu",
                   sets=["n_train=400", "n_extra=120", "n_val=180", "n_test=240", "steps=15"],
                   console=Console(quiet=True), progress=False)
    return out, seen


def test_tiny_run_measures_each_response(tiny):
    out, seen = tiny
    assert seen == [180]  # fitted once, on the validation split (n_val), never the test
    m = json.loads((out / "metrics.json").read_text())
    assert m["thresholds_eod_narrowing"] == pytest.approx(m["base_eod"] - m["thresh_eod"])
    assert m["more_worst_bal_acc_gain"] == pytest.approx(
        m["more_worst_bal_acc"] - m["base_worst_bal_acc"])
    assert 0 <= m["abstain_coverage"] <= 1
    for key in ("base_sens_VI", "over_spec_I", "thresh_sens_III", "base_auc_light_minus_dark",
                "base_deploy", "more_deploy"):
        assert key in m
    table = (out / "results.md").read_text()
    assert "simulated" in table and "per-type thresholds" in table
    assert (out / "per_type_metrics.png").stat().st_size > 5_000


def test_missing_dermamnist_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="dermamnist") as e:
        run_experiment(get("fairness-skin"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["data=dermamnist"], console=Console(quiet=True), progress=False)
    assert "\n" not in str(e.value)
