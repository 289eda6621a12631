"""Seeds and devices: the two things every run must pin down first."""

from __future__ import annotations

import os
import random

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
