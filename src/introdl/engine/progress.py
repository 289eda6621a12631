"""A light progress bar for training: loss, throughput and ETA, refreshed twice a second.

It draws on stderr. In a terminal it animates; in a log (stderr not a terminal) rich
prints the finished bar once, a one-line summary of the run.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBar:
    """Throttled rich progress bar; a no-op when disabled (tests, non-zero ranks)."""

    def __init__(self, total: int, desc: str = "train", enabled: bool = True,
                 interval: float = 0.5) -> None:
        self.enabled = enabled
        self.interval = interval
        self._last = 0.0
        self._t0 = time.perf_counter()
        self._samples0: int | None = None
        if enabled:
            self._p = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), refresh_per_second=2,
            )
            self._task = self._p.add_task(desc, total=total, info="")

    def __enter__(self):
        if self.enabled:
            self._p.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._p.stop()
        return False

    def due(self) -> bool:
        """True when a refresh is worth doing (keeps the bar off the hot path)."""
        if not self.enabled:
            return False
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False

    def advance(self, steps: int) -> None:
        """Start at ``steps`` (a resumed run) without counting them towards speed or ETA."""
        if self.enabled and steps:
            self._p.reset(self._task, completed=steps)

    def update(self, step: int, *, loss: float, samples: int, val: float | None = None) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self._samples0 is None:  # throughput counts from the first update on
            self._samples0, self._t0 = samples, now
        info = f"loss {loss:.4f}" + (f" · val {val:.4f}" if val is not None else "")
        if now > self._t0:
            info += f" · {(samples - self._samples0) / (now - self._t0):,.0f} samples/s"
        self._p.update(self._task, completed=step, info=info)
