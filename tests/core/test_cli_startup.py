"""A fast CLI: listing, --help and bad input import neither torch nor lecture code.

Each case runs in a fresh interpreter and reports what it imported (``sys.modules``);
the time it takes is measured in benchmarks/cli_startup.py, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from introdl import cli, runtime

PROBE = """
import json, sys
from introdl.cli import main
try:
    rc = main(sys.argv[2:])
except SystemExit as e:
    rc = e.code
with open(sys.argv[1], "w") as f:
    json.dump({"rc": rc, "modules": sorted(sys.modules)}, f)
"""

HEAVY = ("torch", "numpy", "matplotlib", "music21", "torchvision", "skimage", "sklearn")
CORE = {"introdl", "introdl.cli", "introdl.catalogue", "introdl.config", "introdl.errors",
        "introdl.experiment"}


def _probe(tmp_path, *argv: str) -> tuple[int, set[str]]:
    out = tmp_path / "probe.json"
    p = subprocess.run([sys.executable, "-c", PROBE, str(out), *argv], capture_output=True,
                       text=True, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    got = json.loads(out.read_text())
    return got["rc"], set(got["modules"])


def _allowed() -> set[str]:
    """Core modules, plus each topic's commands module and its package (nothing else)."""
    allowed = set(CORE)
    for m in cli.topic_command_modules():
        allowed |= {m, m.rsplit(".", 1)[0]}
    return allowed


@pytest.mark.parametrize("argv, rc", [
    (["list"], 0),
    (["--help"], 0),
    (["run", "--help"], 0),
    (["generate", "music", "--help"], 0),
    (["run", "no-such-experiment"], 2),
    (["course", "--only", "perceptron", "nope"], 2),
    (["generate", "music", "--checkpoint", "x", "--temperature", "0"], 2),
    (["report", "/no/such/folder"], 2),
])
def test_fast_paths_import_no_torch_and_no_lecture_code(tmp_path, argv, rc):
    code, modules = _probe(tmp_path, *argv)
    assert code == rc
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], heavy
    introdl = {m for m in modules if m.split(".")[0] == "introdl"}
    assert introdl <= _allowed(), sorted(introdl - _allowed())


def test_topic_commands_are_discovered_not_wired_into_the_core():
    assert "introdl.sequences.commands" in cli.topic_command_modules()
    assert "introdl.data.commands" not in cli.topic_command_modules()  # no register()
    source = open(cli.__file__, encoding="utf-8").read()
    for topic in ("sequences", "foundations", "vision", "music"):
        assert f"introdl.{topic}" not in source


def test_run_imports_only_the_named_experiments_module(tmp_path):
    """A bad --set needs the config class: that one module is imported, no other."""
    code, modules = _probe(tmp_path, "run", "perceptron", "--set", "unknown=1")
    assert code == 2
    experiments = {m for m in modules if ".experiments." in m}
    assert experiments == {"introdl.foundations.experiments.perceptron"}


def test_devices_match_the_runtime():
    assert cli.DEVICES == runtime.DEVICES


def test_the_cli_makes_idle_openmp_threads_sleep_unless_the_user_says_otherwise():
    import os
    import subprocess
    import sys

    code = "import os, introdl.cli; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "ACTIVE"
