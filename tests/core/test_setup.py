"""The README's two commands, .ci/run and the setup script cannot drift apart."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from introdl.data import registry

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "setup"


def _array(name: str) -> set[str]:
    """Every word of ``NAME=(...)`` and later ``NAME+=(...)`` lines (comments dropped)."""
    text = "\n".join(ln.split("#")[0] for ln in SETUP.read_text().splitlines())
    parts = re.findall(rf"^{name}\+?=\(([^)]*)\)", text, re.M)
    assert parts, f"scripts/setup has no {name}=(...)"
    return {w for part in parts for w in part.split()}


def test_readme_first_command_uses_the_setup_script_then_runs_the_quick_course():
    readme = (ROOT / "README.md").read_text()
    assert "bash scripts/setup && .venv/bin/introdl course --quick" in readme
    assert "bash .ci/run" in readme


def test_ci_runs_the_same_setup_then_the_tests_and_the_quick_course():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()
             if ln.strip() and not ln.strip().startswith("#")]
    setup = next(i for i, ln in enumerate(lines) if ln.startswith("bash scripts/setup --dev"))
    tests = next(i for i, ln in enumerate(lines) if "pytest" in ln)
    course = next(i for i, ln in enumerate(lines) if "introdl course --quick" in ln)
    assert setup < tests < course


def test_every_system_dataset_package_is_installed_by_the_setup_script():
    packages = _array("PACKAGES")
    needed = {spec.install_hint.split()[-1] for spec in registry.DATASETS.values()
              if spec.source == "system" and spec.install_hint}
    assert needed, "expected at least Fashion-MNIST from a Debian package"
    assert needed <= packages, f"scripts/setup misses {sorted(needed - packages)}"


def test_the_syndigits_typefaces_are_installed_by_the_setup_script():
    fonts = {"fonts-urw-base35", "fonts-texgyre", "fonts-liberation", "fonts-dejavu",
             "fonts-freefont-ttf", "fonts-noto-core"}
    assert fonts <= _array("PACKAGES"), sorted(fonts - _array("PACKAGES"))


def test_the_genomics_tools_and_lambda_phage_data_are_installed_by_the_setup_script():
    tools = {"bowtie2", "bowtie2-examples", "samtools"}  # Lecture 12's deepvariant
    assert tools <= _array("PACKAGES"), sorted(tools - _array("PACKAGES"))


def test_browser_test_packages_are_installed_for_dev():
    assert {"chromium", "chromium-driver"} <= _array("DEV_PACKAGES")


def test_setup_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(SETUP)]).returncode == 0
