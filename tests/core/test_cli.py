"""The CLI's contract: bad input is one line on stderr and exit code 2, never a traceback;
a failed claim is exit code 1; the course summary counts every verdict separately."""

import json
import subprocess
import sys

import pytest

from introdl.cli import main


def _err_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["run", "tyo"], "did you mean toy"),
        (["run", "toy", "--set", "valu=1"], "did you mean value"),
        (["run", "toy", "--set", "value=big"], "expected a number"),
        (["run", "toy", "--set", "value"], "expected key=value"),
        (["run", "toy", "--device", "tpu"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        (["course", "--only", "nope"], "unknown experiment 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(toy, capsys, argv, fragment):
    assert main(argv) == 2
    assert fragment in _err_line(capsys)


def test_existing_output_needs_force(toy, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "toy", "--out", str(out), "--device", "cpu"]) == 0
    first = (out / "metrics.json").read_text()
    capsys.readouterr()
    assert main(["run", "toy", "--out", str(out), "--set", "value=5"]) == 2
    assert "--force" in _err_line(capsys)
    assert (out / "metrics.json").read_text() == first  # nothing lost
    assert main(["run", "toy", "--out", str(out), "--set", "value=2.01", "--force"]) == 0
    assert json.loads((out / "metrics.json").read_text())["value"] == 2.01


def test_unwritable_out_is_reported(toy, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["run", "toy", "--out", str(blocker / "run")]) == 2
    assert "not writable" in _err_line(capsys)


def test_data_unavailable_inside_an_experiment_is_a_usage_error(toy, tmp_path, capsys,
                                                                monkeypatch):
    from introdl.errors import DataUnavailable

    def missing(cfg, run):
        raise DataUnavailable("dataset 'x' is not here; set INTRODL_DATA")

    monkeypatch.setattr(toy, "fn", missing)
    assert main(["run", "toy", "--out", str(tmp_path / "r")]) == 2
    assert "INTRODL_DATA" in _err_line(capsys)
    assert not (tmp_path / "r" / "config.json").exists()  # a retry needs no --force


def test_list_shows_experiments_by_lecture(toy, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toy" in out and "value is about two" in out


def test_course_writes_index_and_refuses_to_overwrite_it(toy, tmp_path, capsys):
    assert main(["course", "--quick", "--only", "toy", "--out", str(tmp_path / "c")]) == 0
    html = (tmp_path / "c" / "index.html").read_text()
    assert 'href="toy/' in html  # the experiment's row links to its run folder
    capsys.readouterr()
    assert main(["course", "--quick", "--only", "toy", "--out", str(tmp_path / "c")]) == 2
    assert "--force" in _err_line(capsys)


def test_console_script_end_to_end(tmp_path):
    """The installed entry point runs a real Lecture 1 experiment and writes its folder."""
    out = tmp_path / "perceptron"
    p = subprocess.run([sys.executable, "-m", "introdl.cli", "run", "perceptron", "--quick",
                        "--device", "cpu", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    result = json.loads((out / "result.json").read_text())
    assert result["passed"] is True
    assert any(f.endswith(".png") for f in result["figures"])


def test_run_exits_1_when_a_checked_claim_fails(toy, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "toy", "--out", str(out), "--device", "cpu", "--set", "value=3"]) == 1
    err = capsys.readouterr().err
    assert "FAIL" in err and "checked claims: 0 pass, 1 fail, 0 not checked" in err
    assert json.loads((out / "result.json").read_text())["status"] == "fail"


def test_run_exits_0_and_counts_a_passing_run(toy, tmp_path, capsys):
    assert main(["run", "toy", "--quick", "--out", str(tmp_path / "r"), "--device", "cpu"]) == 0
    assert "checked claims: 1 pass, 0 fail, 0 not checked" in capsys.readouterr().err


def test_run_prints_stated_facts_under_the_claims(toy, tmp_path, capsys, monkeypatch):
    from introdl.experiment import Fact

    monkeypatch.setattr(toy, "facts", (Fact("the value, stated", metric="value"),))
    assert main(["run", "toy", "--out", str(tmp_path / "r"), "--set", "value=2.04"]) == 0
    err = capsys.readouterr().err
    table_end = err.index("shown only")
    assert err.index("stated facts") > table_end
    assert "the value, stated: 2.04" in err
