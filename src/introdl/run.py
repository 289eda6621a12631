"""A run folder and what an experiment writes into it.

::

    RUN_DIR/
      config.json      the resolved config, seed, device, quick flag
      metrics.jsonl    one JSON object per logged step/epoch (appended as training goes)
      metrics.json     final metrics returned by the experiment
      result.md        the lecture's claims beside the measured values
      *.png            figures
      checkpoints/     engine checkpoints (atomic), used by --resume
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from introdl import io


class Run:
    """Owns one experiment's output folder.

    Args:
        out: the run folder (created).
        device: torch device the experiment should use.
        seed: the seed already applied to Python/NumPy/PyTorch.
        quick: whether the quick preset is in force (experiments may shrink plots etc.).
        resume: continue from checkpoints in ``out/checkpoints`` when they exist.
        console: where progress and messages go.
        main: whether this is the process that writes (under torchrun only rank 0 does;
            the others run the same code with ``log``/``save_*``/``print`` as no-ops).
    """

    def __init__(
        self,
        out: str | os.PathLike,
        *,
        device: torch.device | str = "cpu",
        seed: int = 0,
        quick: bool = False,
        resume: bool = False,
        console: Console | None = None,
        progress: bool = True,
        main: bool = True,
    ) -> None:
        self.dir = Path(out)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.device = torch.device(device)
        self.seed = seed
        self.quick = quick
        self.resume = resume
        self.console = console or Console(stderr=True)
        self.progress = progress
        self.main = main
        self.figures: list[str] = []
        self._t0 = time.perf_counter()

    # -- paths -------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """A path inside the run folder (parents created)."""
        p = self.dir / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    @property
    def checkpoint_dir(self) -> Path:
        d = self.dir / "checkpoints"
        d.mkdir(parents=True, exist_ok=True)
        return d

    # -- logging -----------------------------------------------------------------------
    def log(self, step: int | None = None, **metrics: Any) -> None:
        """Append one record to ``metrics.jsonl`` (e.g. ``run.log(epoch=3, val_loss=0.2)``)."""
        if not self.main:
            return
        rec: dict[str, Any] = {"time": round(time.perf_counter() - self._t0, 4)}
        if step is not None:
            rec["step"] = step
        rec.update(metrics)
        io.append_line(self.dir / "metrics.jsonl", json.dumps(rec, default=io._jsonable))

    def print(self, *args: Any, **kw: Any) -> None:
        if self.main:
            self.console.print(*args, **kw)

    # -- artefacts ---------------------------------------------------------------------
    def save_figure(self, fig: Any, name: str, dpi: int = 110) -> Path:
        """Save a matplotlib figure atomically as PNG and close it."""
        import matplotlib.pyplot as plt

        if not name.endswith(".png"):
            name += ".png"
        path = self.path(name)
        if self.main:
            with io.atomic_open(path, "wb") as f:
                fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        self.figures.append(name)
        return path

    def save_json(self, name: str, obj: Mapping[str, Any] | list) -> Path:
        path = self.path(name)
        if self.main:
            io.write_json(path, obj)
        return path

    def save_text(self, name: str, text: str) -> Path:
        path = self.path(name)
        if self.main:
            io.write_text(path, text)
        return path
