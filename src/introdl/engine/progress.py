"""A light progress bar for training: loss, throughput and ETA, refreshed a few times a second."""

from __future__ import annotations

import sys
import time

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
                 interval: float = 0.2) -> None:
        self.enabled = enabled
        self.interval = interval
        self._last = 0.0
        self._t0 = time.perf_counter()
        self._samples0: int | None = None
        if enabled:
            self._p = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                transient=not sys.stderr.isatty(), refresh_per_second=4,
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
        if self.enabled and steps:
            self._p.update(self._task, completed=steps)

    def update(self, step: int, *, loss: float, samples: int, val: float | None = None) -> None:
        if not self.enabled:
            return
        if self._samples0 is None:
            self._samples0 = samples
        rate = (samples - self._samples0) / max(time.perf_counter() - self._t0, 1e-9)
        info = f"loss {loss:.4f}" + (f" · val {val:.4f}" if val is not None else "")
        info += f" · {rate:,.0f} samples/s"
        self._p.update(self._task, completed=step, info=info)
