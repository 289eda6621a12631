"""Fixtures for the site's tests: a course folder of hand-written run folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from runfolders import (
    errored_result,
    failing_config,
    failing_result,
    model_metrics,
    write_run,
    write_wav,
)


@pytest.fixture
def course(tmp_path) -> Path:
    """A course folder with a failing run (figure, curves, audio) and an errored run."""
    root = tmp_path / "course"
    d = write_run(root / "toy-fail", failing_result(), failing_config(), model_metrics())
    write_wav(d / "samples" / "tune_01.wav")
    (d / "samples" / "tune_01.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00`")
    (d / "samples" / "tune_01.abc").write_text("X:1\nT:test\nK:G\nGAB|\n")
    write_run(root / "toy-error", errored_result())
    return root
