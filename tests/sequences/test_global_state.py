"""Lecture 2 code leaves process-wide torch settings to the runner (``fresh_state``)."""

from __future__ import annotations

import re
from pathlib import Path

import introdl.sequences

GLOBAL_SETTERS = re.compile(r"\btorch\.(set_num_threads|set_num_interop_threads|"
                            r"set_default_dtype|set_default_device)\(")


def test_no_sequences_module_sets_global_torch_state():
    root = Path(introdl.sequences.__file__).parent
    sources = sorted(root.rglob("*.py"))
    assert len(sources) > 10  # the package was found
    offenders = [f"{p.relative_to(root)}:{i}" for p in sources
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if GLOBAL_SETTERS.search(line)]
    assert offenders == []
