"""``introdl course``: pass / fail / error experiments and pass / fail / not-checked claims
are counted separately, and the exit code is 1 when any experiment fails or errors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from introdl.cli import main
from introdl.experiment import Claim, experiment
from introdl.run import Run


@dataclass
class SmallConfig:
    value: float = 3.0  # what the experiment 'measures'


@pytest.fixture
def four(toy):
    """toy (passes), toy-fail (one claim fails), toy-error (raises), toy-full (a claim
    that only the default run checks). The toy fixture restores the registry after."""

    @experiment(name="toy-fail", lecture=0, title="fails one claim",
                claims=[Claim("value is about two", metric="value", expected=2.0, tol=0.1),
                        Claim("value is positive", metric="value", expected=0.0, compare=">")])
    def toy_fail(cfg: SmallConfig, run: Run) -> dict[str, float]:
        return {"value": cfg.value}

    @experiment(name="toy-error", lecture=0, title="raises",
                claims=[Claim("never measured", metric="value", expected=1.0)])
    def toy_error(cfg: SmallConfig, run: Run) -> dict[str, float]:
        raise RuntimeError("boom")

    @experiment(name="toy-full", lecture=0, title="one claim needs the full budget",
                claims=[Claim("needs the default run", metric="value", expected=5.0,
                              compare=">", full_only=True),
                        Claim("value is about three", metric="value", expected=3.0, tol=0.1)])
    def toy_full(cfg: SmallConfig, run: Run) -> dict[str, float]:
        return {"value": cfg.value}


def _run(capsys, tmp_path, *names: str) -> tuple[int, str]:
    rc = main(["course", "--quick", "--device", "cpu", "--out", str(tmp_path / "c"),
               "--only", *names])
    return rc, capsys.readouterr().err


def test_summary_counts_every_verdict_separately_and_exits_1(four, tmp_path, capsys):
    rc, err = _run(capsys, tmp_path, "toy", "toy-fail", "toy-error", "toy-full")
    assert rc == 1
    report = tmp_path / "c" / "index.html"
    assert (f"4 experiments: 2 pass, 1 fail, 1 error · checked claims: 3 pass, 1 fail, "
            f"1 not checked (need the default run), 1 not run (experiment errored) · "
            f"report: {report}") in err
    table = err[err.index("course summary"):]
    rows = {line.split("│")[2].strip(): [c.strip() for c in line.split("│")[3:8]]
            for line in table.splitlines() if line.count("│") >= 8}
    assert rows["toy"] == ["pass", "1", "0", "0", rows["toy"][4]]
    assert rows["toy-fail"][:4] == ["FAIL", "1", "1", "0"]
    assert rows["toy-error"][:4] == ["error", "—", "—", "—"]
    assert rows["toy-full"][:4] == ["pass", "1", "0", "1"]


def test_a_failed_claim_alone_makes_the_course_exit_1(four, tmp_path, capsys):
    rc, err = _run(capsys, tmp_path, "toy", "toy-fail")
    assert rc == 1
    assert "2 experiments: 1 pass, 1 fail, 0 error · checked claims: 2 pass, 1 fail, " \
           "0 not checked · report:" in err


def test_not_checked_is_not_a_failure(four, tmp_path, capsys):
    rc, err = _run(capsys, tmp_path, "toy", "toy-full")
    assert rc == 0
    assert "2 experiments: 2 pass, 0 fail, 0 error · checked claims: 2 pass, 0 fail, " \
           "1 not checked (need the default run) · report:" in err


def test_an_error_alone_makes_the_course_exit_1(four, tmp_path, capsys):
    rc, err = _run(capsys, tmp_path, "toy-error")
    assert rc == 1
    assert "1 experiment: 0 pass, 0 fail, 1 error" in err
