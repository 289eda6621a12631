"""Shared test set-up: headless plots, one BLAS thread per xdist worker, a quiet Run."""

from __future__ import annotations

import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
torch.set_num_threads(max(1, (os.cpu_count() or 1) // _workers))


@pytest.fixture
def run(tmp_path):
    """A Run writing into a temporary folder, on the CPU, without progress bars."""
    from rich.console import Console

    from introdl.run import Run

    return Run(tmp_path / "run", device="cpu", seed=0, quick=True, progress=False,
               console=Console(quiet=True))
