"""Shared test set-up: headless plots, one thread per test process, a quiet Run."""

from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

# One thread per process: tiny test tensors gain nothing from more, and under
# load extra threads slow them down badly.
torch.set_num_threads(1)


@pytest.fixture
def run(tmp_path):
    """A Run writing into a temporary folder, on the CPU, without progress bars."""
    from rich.console import Console

    from introdl.run import Run

    return Run(tmp_path / "run", device="cpu", seed=0, quick=True, progress=False,
               console=Console(quiet=True))
