import json

import pytest
from rich.console import Console

from introdl.experiment import Claim, get, load_all
from introdl.runner import run_course, run_experiment

QUIET = Console(quiet=True)


@pytest.mark.parametrize(
    "claim, value, verdict",
    [
        (Claim("x", metric="m", expected=1.0, tol=0.1), 1.05, True),
        (Claim("x", metric="m", expected=1.0, tol=0.1), 1.2, False),
        (Claim("x", metric="m", expected=0.9, compare=">="), 0.95, True),
        (Claim("x", metric="m", expected=0.9, compare=">="), 0.85, False),
        (Claim("x", metric="m", expected=1.6, compare="<="), 1.7, False),
        (Claim("x", metric="m", expected=0.0, compare=">"), 0.0, False),
        (Claim("x", metric="m", compare="true"), 1.0, True),
        (Claim("x", metric="m", compare="true"), 0.0, False),
        (Claim("x", metric="m", expected=1.0, tol=1.0), float("nan"), False),
    ],
)
def test_claim_check(claim, value, verdict):
    assert claim.check({"m": value}) is verdict


def test_claim_missing_metric_fails_and_figure_claim_is_unchecked():
    assert Claim("x", metric="m", expected=1.0).check({}) is False
    assert Claim("figure only").check({}) is None


def test_every_registered_experiment_has_a_dataclass_config_and_claims():
    exps = load_all()
    for e in exps.values():
        cfg = e.make_config(quick=True)
        assert e.claims, e.name
        assert type(cfg) is e.config_cls


def test_run_writes_the_run_folder_and_checks_claims(toy, tmp_path):
    r = run_experiment(toy, out=tmp_path / "r", quick=True, device="cpu", console=QUIET)
    assert r.passed and r.metrics == {"value": 2.05}
    files = {p.name for p in (tmp_path / "r").iterdir()}
    assert {"config.json", "metrics.json", "metrics.jsonl", "result.md", "result.json",
            "line.png"} <= files
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["config"]["value"] == 2.05 and cfg["quick"] is True
    md = (tmp_path / "r" / "result.md").read_text()
    assert "value is about two" in md and "pass" in md


def test_claim_failure_is_reported_not_raised(toy, tmp_path):
    r = run_experiment(toy, out=tmp_path / "r", sets=["value=3"], device="cpu", console=QUIET)
    assert not r.passed
    assert json.loads((tmp_path / "r" / "result.json").read_text())["passed"] is False


def test_course_continues_past_a_failed_experiment(toy, tmp_path, monkeypatch):
    from introdl.experiment import _REGISTRY

    bad = _REGISTRY["toy"]
    monkeypatch.setitem(bad.quick, "fail", True)
    results = run_course(out=tmp_path / "c", quick=True, device="cpu", only=["toy"],
                         console=QUIET)
    assert len(results) == 1 and results[0].error and "toy failure" in results[0].error
    html = (tmp_path / "c" / "index.html").read_text()
    assert "toy" in html and "error" in html


def test_get_suggests_close_names(toy):
    from introdl.errors import UsageError

    with pytest.raises(UsageError, match="did you mean toy"):
        get("tyo")


def test_quick_runs_are_held_to_their_own_stated_target():
    c = Claim("acc", metric="acc", expected=0.88, compare=">=", quick_expected=0.8)
    assert c.check({"acc": 0.82}, quick=True) is True
    assert c.check({"acc": 0.82}) is False
    assert "quick run; full: 0.88" in c.expected_text(quick=True)
    assert "(quick run: 0.8)" in c.expected_text()


def test_full_only_claims_are_not_checked_in_quick_runs():
    c = Claim("cnn beats mlp", metric="gain", expected=0.0, compare=">", full_only=True)
    assert c.check({"gain": -0.1}, quick=True) is None
    assert c.check({"gain": -0.1}) is False and c.check({"gain": 0.1}) is True
    assert "default run only" in c.expected_text(quick=True)


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    import os

    from introdl import io

    io.write_text(tmp_path / "a.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert not list(tmp_path.glob(".a.txt*"))  # no temporary file left behind


def test_expected_text_shows_the_tolerance_of_a_bound():
    le = Claim("gap", metric="gap", expected=0.0, tol=0.03, compare="<=")
    assert le.expected_text() == "gap <= 0 + 0.03"
    assert le.check({"gap": 0.02}) is True  # what the text promises
    assert Claim("a", metric="a", expected=0.9, tol=0.01, compare=">=").expected_text() \
        == "a >= 0.9 - 0.01"
    assert Claim("a", metric="a", expected=0.9, compare=">=").expected_text() == "a >= 0.9"


def test_a_fact_among_the_claims_is_refused_when_the_module_loads():
    from dataclasses import dataclass

    from introdl.experiment import Fact, experiment

    @dataclass
    class Cfg:
        n: int = 1

    def fn(cfg: Cfg, run):
        return {}

    with pytest.raises(TypeError, match="put a Fact in facts"):
        experiment(name="misfiled-fact", lecture=1, title="t",
                   claims=[Claim("c", metric="m", expected=1.0, compare=">="),
                           Fact("a number", metric="m")])(fn)
    with pytest.raises(TypeError, match="facts= takes Fact"):
        experiment(name="misfiled-claim", lecture=1, title="t", claims=[],
                   facts=[Claim("c")])(fn)
    assert "misfiled-fact" not in load_all() and "misfiled-claim" not in load_all()
