"""Screening: the CT simulator, the simulated readers, ROC pieces, and a tiny end-to-end run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console
from sklearn.metrics import roc_auc_score, roc_curve

from introdl.errors import DataUnavailable, UsageError
from introdl.experiment import get
from introdl.health import roc
from introdl.health.ct import CTParams, Lesion, conspicuity, render, simulate
from introdl.health.readers import ReaderParams, calibrate, make_readers, reference
from introdl.runner import run_experiment

SMALL = CTParams(size=20)


# -- simulator -----------------------------------------------------------------------------

def test_same_seed_same_volumes_and_prefix_property():
    a, b = simulate(6, 3, SMALL), simulate(6, 3, SMALL)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, simulate(6, 4, SMALL).x)
    assert np.array_equal(simulate(3, 3, SMALL).x, a.x[:3])  # case i has its own stream


def _lesion_mean(contrast: float, seed: int = 0, **kw) -> float:
    les = Lesion("malignant", radius=2.5, contrast=contrast)
    vol, mask, lung = render(les, np.random.default_rng(seed), CTParams(size=24, **kw))
    assert mask.sum() > 10 and lung[mask].all()  # the nodule lies inside the lung
    return float(vol[mask].mean())


def test_more_contrast_makes_a_brighter_nodule():
    # same seed: same anatomy, vessels and noise; only the nodule's contrast differs
    assert _lesion_mean(0.8) - _lesion_mean(0.3) == pytest.approx(0.5 * 0.8, abs=0.15)


def test_noise_sd_sets_the_noise_in_the_lungs():
    def lung_sd(sd):
        vol, _, lung = render(Lesion("none"), np.random.default_rng(1), CTParams(size=24,
                                                                                 noise_sd=sd))
        quiet, _, _ = render(Lesion("none"), np.random.default_rng(1), CTParams(size=24,
                                                                                noise_sd=0))
        return float((vol - quiet)[lung].std())
    assert lung_sd(0.2) == pytest.approx(0.2, rel=0.1)
    assert lung_sd(0.05) == pytest.approx(0.05, rel=0.1)


def test_prevalence_and_look_alikes_follow_the_parameters():
    d = simulate(300, 0, CTParams(size=16, prevalence=0.3, p_calcified=0.5, p_benign=0.5))
    kinds = np.array([les.kind for les in d.lesions])
    assert abs(d.y.mean() - 0.3) < 0.08
    assert np.array_equal(d.y, (kinds == "malignant").astype(int))
    assert "none" not in kinds  # p_calcified + p_benign = 1: every negative has a look-alike
    assert d.x.shape == (300, 16, 16, 16) and d.x.dtype == np.float32


# -- readers -------------------------------------------------------------------------------

def test_calibrated_reader_has_the_target_rates_on_many_cases():
    p, rp = CTParams(), ReaderParams()
    u_pos, u_neg, scale = reference(p, rp, n=4000)
    k, t = calibrate(0.8, 0.75, u_pos, u_neg)
    # fresh cases (another seed), fresh reader noise: measured rates near the targets
    u_pos2, u_neg2, _ = reference(p, rp, n=20000, seed=99)
    reader = make_readers(ReaderParams(n=1, sensitivity=0.8, specificity=0.75, spread=0.0),
                          u_pos, u_neg, np.random.default_rng(0))[0]
    assert (reader.gain, reader.threshold) == pytest.approx((k, t))
    rng = np.random.default_rng(5)
    assert reader.read(u_pos2, rng).mean() == pytest.approx(0.8, abs=0.015)
    assert 1 - reader.read(u_neg2, rng).mean() == pytest.approx(0.75, abs=0.015)


def test_readers_miss_faint_small_nodules_more():
    p = CTParams()
    u_pos, u_neg, scale = reference(p, ReaderParams(), n=4000)
    reader = make_readers(ReaderParams(n=1, spread=0.0), u_pos, u_neg,
                          np.random.default_rng(0))[0]
    faint = conspicuity(Lesion("malignant", 1.2, 0.3), p) / scale
    clear = conspicuity(Lesion("malignant", 2.8, 0.8), p) / scale
    rng = np.random.default_rng(1)
    assert reader.read(np.full(4000, faint), rng).mean() + 0.3 < \
        reader.read(np.full(4000, clear), rng).mean()


def test_reader_spread_and_means():
    u_pos, u_neg, _ = reference(CTParams(), ReaderParams(), n=1500)
    readers = make_readers(ReaderParams(n=120, sensitivity=0.8, specificity=0.7, spread=0.05),
                           u_pos, u_neg, np.random.default_rng(2))
    sens = np.array([r.sensitivity for r in readers])
    spec = np.array([r.specificity for r in readers])
    assert sens.mean() == pytest.approx(0.8, abs=0.015)
    assert spec.mean() == pytest.approx(0.7, abs=0.015)
    assert sens.std() == pytest.approx(0.05, abs=0.012)
    for r in readers[:5]:
        assert r.expected_rates(u_pos, u_neg) == pytest.approx((r.sensitivity, r.specificity),
                                                               abs=1e-6)


def test_a_reader_below_chance_is_refused():
    with pytest.raises(ValueError, match="beat chance"):
        calibrate(0.2, 0.7, np.ones(3), np.zeros(3))


# -- ROC pieces ----------------------------------------------------------------------------

def test_bootstrap_hand_cases():
    y = np.array([0, 0, 0, 1, 1, 1])
    # perfectly separated: every resample has AUC 1
    assert roc.bootstrap_auc(y, np.arange(6.0), n_boot=200, seed=0) == (1.0, 1.0)
    # the same resamples by hand: indices from the same seeded generator, redraws skipped
    s = np.array([0.1, 0.6, 0.3, 0.5, 0.9, 0.2])
    rng, aucs = np.random.default_rng(3), []
    while len(aucs) < 300:
        idx = rng.integers(0, 6, 6)
        if len(set(y[idx])) == 2:
            aucs.append(roc_auc_score(y[idx], s[idx]))
    assert roc.bootstrap_auc(y, s, n_boot=300, seed=3) == pytest.approx(
        tuple(np.percentile(aucs, [2.5, 97.5])))


def test_bootstrap_width_matches_hanley_mcneil():
    rng = np.random.default_rng(0)
    n = 400
    y = np.repeat([0, 1], n)
    s = np.concatenate([rng.normal(0, 1, n), rng.normal(1.5, 1, n)])
    a = roc_auc_score(y, s)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)  # Hanley & McNeil (1982) standard error
    se = np.sqrt((a * (1 - a) + (n - 1) * (q1 - a * a) + (n - 1) * (q2 - a * a)) / (n * n))
    lo, hi = roc.bootstrap_auc(y, s, n_boot=400, seed=1)
    assert lo < a < hi
    assert (hi - lo) == pytest.approx(2 * 1.96 * se, rel=0.2)


@pytest.mark.parametrize("target", [0.5, 0.73, 0.9, 1.0])
def test_matched_thresholds_agree_with_sklearn_roc(target):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(y * 1.2, 1), 1)  # ties on purpose
    fpr, tpr, _ = roc_curve(y, s)
    # specificity >= target: the best sensitivity any ROC point allows
    t = roc.threshold_for_specificity(y, s, target)
    got_fpr, got_fnr = roc.error_rates(y, roc.calls(s, t))
    assert 1 - got_fpr >= target - 1e-12
    assert 1 - got_fnr == pytest.approx(tpr[fpr <= 1 - target + 1e-12].max())
    # sensitivity >= target: the lowest false positive rate any ROC point allows
    t = roc.threshold_for_sensitivity(y, s, target)
    got_fpr, got_fnr = roc.error_rates(y, roc.calls(s, t))
    assert 1 - got_fnr >= target - 1e-12
    assert got_fpr == pytest.approx(fpr[tpr >= target - 1e-12].min())


def test_balanced_threshold_lies_between_and_uses_only_the_data_given():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    s = rng.normal(y * 2.0, 1)
    t = roc.balanced_threshold(y, s, 0.8, 0.8)
    lo, hi = sorted([roc.threshold_for_specificity(y, s, 0.8),
                     roc.threshold_for_sensitivity(y, s, 0.8)])
    assert lo <= t <= hi
    fpr, fnr = roc.error_rates(y, roc.calls(s, t))
    assert fpr < 0.2 and fnr < 0.2  # a model better than the (0.8, 0.8) reader: both fall
    # validation only: the threshold is a function of (y_val, s_val) alone
    assert roc.balanced_threshold(y.copy(), s.copy(), 0.8, 0.8) == t


# -- end to end ----------------------------------------------------------------------------

def test_tiny_run_reports_auc_readers_and_operating_points(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("screening"), out=out, quick=True, device="cpu",
                   sets=["n_train=80", "n_val=60", "n_test=60", "epochs=1", "size=16",
                         "readers=3", "n_boot=100"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert 0 <= m["auc_low"] <= m["auc"] <= m["auc_high"] <= 1
    assert m["fp_reduction"] == pytest.approx(m["reader_fpr"] - m["model_fpr"])
    assert m["reader_fnr"] == pytest.approx(np.mean([m[f"reader{i}_fnr"] for i in (1, 2, 3)]))
    assert "model_fnr_at_reader3_spec" in m and "reader4_fpr" not in m
    assert "simulated" in (out / "results.md").read_text()
    for name in ("roc.png", "slices.png"):
        assert (out / name).stat().st_size > 5_000


def test_missing_nodulemnist3d_is_one_line(tmp_path, monkeypatch):
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("INTRODL_DATA", str(empty))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    with pytest.raises(DataUnavailable) as e:
        run_experiment(get("screening"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["data=nodulemnist3d"], console=Console(quiet=True),
                       progress=False)
    assert "\n" not in str(e.value) and "nodulemnist3d" in str(e.value)


def test_unknown_data_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="data"):
        run_experiment(get("screening"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["data=lidc"], console=Console(quiet=True), progress=False)


def test_real_data_path_runs_on_a_stand_in_file(tmp_path, monkeypatch):
    """The nodulemnist3d path, on random uint8 volumes shaped like the file (no real data)."""
    from introdl.health import medmnist

    rng = np.random.default_rng(0)

    def fake(name):
        parts = {}
        for split, n in (("train", 60), ("val", 40), ("test", 40)):
            parts[f"x_{split}"] = rng.integers(0, 256, (n, 28, 28, 28), dtype=np.uint8)
            parts[f"y_{split}"] = np.tile([0, 1], n // 2).astype(np.int64)
        return medmnist.MedMNIST(name=name, **parts)

    monkeypatch.setattr(medmnist, "load_medmnist", fake)
    out = tmp_path / "r"
    run_experiment(get("screening"), out=out, quick=True, device="cpu",
                   sets=["data=nodulemnist3d", "epochs=1", "readers=2", "n_boot=100"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    assert 0 <= m["auc"] <= 1 and "reader2_fnr" in m
    assert "real NoduleMNIST3D" in (out / "results.md").read_text()
