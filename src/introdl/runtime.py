"""Seeds and devices: the two things every run must pin down first."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import numpy as np
import torch

from introdl.errors import UsageError

DEVICES = ("auto", "cpu", "cuda", "mps")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch so a CPU run is repeatable; return a torch Generator."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (legacy global state, for third-party code)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks cuda -> mps -> cpu; a named device that is absent is a usage error."""
    if name not in DEVICES:
        raise UsageError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda asked for but no CUDA GPU is visible; use --device cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps asked for but MPS is not available; use --device cpu")
    return torch.device(name)


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what platform knows."""
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> str:
    """One line recording where a number was measured: CPU, cores, torch, threads, load."""
    import platform

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    gpu = f"; GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return (f"{cpu_name()}; {os.cpu_count()} logical CPUs{gpu}; torch {torch.__version__}, "
            f"{torch.get_num_threads()} thread(s); load average {load:.1f}; "
            f"Python {platform.python_version()} on {platform.system()}")


# Threads every experiment starts with: all the cores torch would take by default,
# so one experiment's torch.set_num_threads (or a library's) never reaches the next.
DEFAULT_THREADS = torch.get_num_threads()


@contextlib.contextmanager
def fresh_state(seed: int, threads: int | None = None) -> Iterator[torch.Generator]:
    """Give an experiment the same starting state wherever it runs, and restore it after.

    Inside: torch's intra-op threads set to ``threads`` (default: what torch chose at
    start-up, or ``INTRODL_THREADS``), the default dtype float32, deterministic seeds for
    Python, NumPy and torch. After: threads, dtype and the global RNG states are
    restored, so the next experiment in a course starts exactly as it would alone.
    """
    if threads is None:
        env = os.environ.get("INTRODL_THREADS")
        threads = int(env) if env else DEFAULT_THREADS
    saved_threads = torch.get_num_threads()
    saved_dtype = torch.get_default_dtype()
    saved_py = random.getstate()
    saved_np = np.random.get_state()  # noqa: NPY002 (restoring third-party global state)
    saved_torch = torch.get_rng_state()
    torch.set_num_threads(max(1, threads))
    torch.set_default_dtype(torch.float32)
    try:
        yield seed_everything(seed)
    finally:
        torch.set_num_threads(saved_threads)
        torch.set_default_dtype(saved_dtype)
        random.setstate(saved_py)
        np.random.set_state(saved_np)  # noqa: NPY002
        torch.set_rng_state(saved_torch)
