"""The CLI's contract: bad input is one line on stderr and exit code 2, never a traceback."""

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
    assert main(["run", "toy", "--out", str(out), "--set", "value=5", "--force"]) == 0
    assert json.loads((out / "metrics.json").read_text())["value"] == 5.0


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


def test_course_writes_index_with_one_row_per_experiment(toy, tmp_path, capsys):
    assert main(["course", "--quick", "--only", "toy", "--out", str(tmp_path / "c")]) == 0
    html = (tmp_path / "c" / "index.html").read_text()
    assert html.count('<tr class="first">') == 1 and 'href="toy/result.md"' in html
    assert html.count("<tr><td>") == 1  # the toy's second claim gets its own row
    assert main(["course", "--quick", "--only", "toy", "--out", str(tmp_path / "c")]) == 2


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
