"""Compatibility shim: the course report is now the static site of ``introdl.report.site``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from introdl.report.site import write_site


def write_index(path: Path, results: Sequence[Any] = (), quick: bool = False) -> Path:
    """Write the site for the run folders beside ``path`` (``COURSE_DIR/index.html``).

    ``results`` is accepted for the old signature and not used: the site is read back
    from the run folders the results were written to.
    """
    return write_site(Path(path).parent, quick=quick)
