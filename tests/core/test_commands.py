"""Topic commands (``generate music``), the shared ``generate`` group, and ``introdl report``."""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import pytest

from introdl.cli import Commands, _Parser, main
from introdl.errors import UsageError


def _err_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def fake_generate(monkeypatch):
    """Stand in for introdl.sequences.music.generate: records its call, loads nothing."""
    calls = []

    def generate_music(checkpoint, **kw):
        calls.append((Path(checkpoint), kw))
        return types.SimpleNamespace(metrics={"valid_share": 0.5}, tunes=["a", "b"],
                                     out=kw["out"])

    mod = types.ModuleType("introdl.sequences.music.generate")
    mod.generate_music = generate_music
    monkeypatch.setitem(sys.modules, "introdl.sequences.music.generate", mod)
    return calls


@pytest.mark.parametrize("args, fragment", [
    (["--temperature", "0"], "--temperature must be > 0 and finite (got 0)"),
    (["--temperature", "-1"], "--temperature must be > 0 and finite (got -1)"),
    (["--temperature", "nan"], "--temperature must be > 0 and finite (got nan)"),
    (["--temperature", "inf"], "--temperature must be > 0 and finite (got inf)"),
    (["--temperature", "hot"], "argument --temperature: invalid float value: 'hot'"),
    (["--n", "0"], "--n must be at least 1 (got 0)"),
    (["--n", "two"], "argument --n: invalid int value: 'two'"),
])
def test_generate_rejects_bad_numbers_before_loading_anything(tmp_path, capsys, fake_generate,
                                                              args, fragment):
    assert main(["generate", "music", "--checkpoint", str(tmp_path), *args]) == 2
    assert fragment in _err_line(capsys)
    assert fake_generate == []


def test_generate_rejects_an_unwritable_out(tmp_path, capsys, fake_generate):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["generate", "music", "--checkpoint", str(tmp_path),
                 "--out", str(blocker / "tunes")]) == 2
    err = _err_line(capsys)
    assert "--out" in err and "not writable" in err
    assert fake_generate == []


def test_generate_rejects_a_missing_checkpoint(tmp_path, capsys, fake_generate):
    assert main(["generate", "music", "--checkpoint", str(tmp_path / "nope")]) == 2
    assert "no music checkpoint" in _err_line(capsys)
    assert fake_generate == []


def test_generate_passes_its_arguments_on(tmp_path, capsys, fake_generate):
    assert main(["generate", "music", "--checkpoint", str(tmp_path), "--n", "2",
                 "--temperature", "0.9", "--start", "X:1\\nT:A", "--seed", "3"]) == 0
    (ckpt, kw), = fake_generate
    assert ckpt == tmp_path and kw["out"] == tmp_path / "generated"
    assert (kw["n"], kw["temperature"], kw["seed"]) == (2, 0.9, 3)
    assert kw["start"] == "X:1\nT:A"
    assert "2 tunes in" in capsys.readouterr().err


def test_topics_share_the_generate_group():
    p = _Parser(prog="introdl")
    commands = Commands(p.add_subparsers(dest="cmd", required=True, parser_class=_Parser))

    def handler(a, out, err):
        return 0

    commands.add("generate music", help="tunes", handler=handler)
    commands.add("generate images", help="pictures", handler=handler).add_argument("--n")
    a = p.parse_args(["generate", "images", "--n", "4"])
    assert a.handler is handler and a.n == "4"
    assert p.parse_args(["generate", "music"]).generate_cmd == "music"
    with pytest.raises(ValueError, match="registered twice"):
        commands.add("generate music", help="again", handler=handler)
    with pytest.raises(ValueError, match="registered twice"):
        commands.add("generate", help="a command named like the group", handler=handler)


def test_the_real_parser_has_generate_music_from_the_sequences_topic():
    from introdl.cli import _build_parser
    from introdl.sequences.commands import generate_music_command

    a = _build_parser().parse_args(["generate", "music", "--checkpoint", "x"])
    assert a.handler is generate_music_command
    assert (a.n, a.temperature, a.device) == (5, 0.8, "cpu")


@pytest.fixture
def fake_site(monkeypatch):
    calls = []

    def write_site(folder):
        calls.append(folder)
        if not any(folder.iterdir()):
            raise UsageError(f"{folder} holds no runs; run 'introdl course' first")
        return folder / "index.html"

    mod = types.ModuleType("introdl.report.site")
    mod.write_site = write_site
    monkeypatch.setitem(sys.modules, "introdl.report.site", mod)
    return calls


def test_report_writes_the_site_and_prints_its_index(tmp_path, capsys, fake_site):
    (tmp_path / "perceptron").mkdir()
    assert main(["report", str(tmp_path)]) == 0
    assert fake_site == [tmp_path]
    assert capsys.readouterr().out.strip() == str(tmp_path / "index.html")


def test_report_on_a_folder_with_no_runs_is_one_line_and_exit_2(tmp_path, capsys, fake_site):
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no runs" in _err_line(capsys)


def test_report_on_a_missing_folder_is_one_line_and_exit_2(tmp_path, capsys, fake_site):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in _err_line(capsys)
    assert fake_site == []


def test_parser_errors_name_the_subcommand_help():
    with pytest.raises(UsageError, match="introdl generate music --help"):
        from introdl.cli import _build_parser

        _build_parser().parse_args(["generate", "music", "--checkpoint", "x", "--n", "2.5"])


def test_handlers_get_parsed_arguments():
    from introdl.cli import _build_parser

    a = _build_parser().parse_args(["run", "perceptron", "--quick", "--set", "w0=2"])
    assert isinstance(a, argparse.Namespace)
    assert (a.name, a.quick, a.sets, a.device) == ("perceptron", True, ["w0=2"], "auto")
