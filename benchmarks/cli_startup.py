"""CLI start-up: how long ``introdl list``, ``--help`` and bad input take, as whole processes.

Each case is a fresh process (the installed ``introdl`` script, output thrown away),
timed by wall clock and by the child's CPU time (user + system, which other jobs on a
shared machine disturb less). Cases are interleaved, their order rotated each repeat,
after one untimed warm-up round (so every case finds the files in the page cache).
References measured in the same run:

- ``python -c pass``: the interpreter alone;
- ``python -c "import torch"``: what any command importing torch pays at least;
- the old ``list``: import every experiment (``load_all()``, as ``introdl list`` did
  before the static catalogue), then print the same table.

Target: ``introdl list`` <= 1.5 s (median wall). The machine is recorded with
``introdl.runtime.machine_description`` in this (parent) process after the timings;
the timed processes never import torch unless the case does.

    python benchmarks/cli_startup.py               # 7 repeats
    python benchmarks/cli_startup.py --repeats 15
    git show 28b0a0d:src/introdl/cli.py > /tmp/cli_old.py   # the CLI before this change
    python benchmarks/cli_startup.py --old-cli /tmp/cli_old.py
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

OLD_LIST = ("from introdl.experiment import load_all; load_all(); "
            "from introdl.cli import main; main(['list'])")


def cases(introdl: list[str], old_cli: str | None) -> list[tuple[str, list[str], int]]:
    """(label, command, expected exit code)."""
    py = [sys.executable]
    old = [] if old_cli is None else [
        ("old cli.py: list", py + [old_cli, "list"], 0),
        ("old cli.py: --help", py + [old_cli, "--help"], 0),
    ]
    return old + [
        ("introdl list", introdl + ["list"], 0),
        ("introdl --help", introdl + ["--help"], 0),
        ("introdl run no-such-experiment (bad input)", introdl + ["run", "no-such-experiment"], 2),
        ("introdl generate music --temperature 0 (bad input)",
         introdl + ["generate", "music", "--checkpoint", ".", "--temperature", "0"], 2),
        ("introdl run perceptron --set unknown=1 (imports one experiment)",
         introdl + ["run", "perceptron", "--set", "unknown=1"], 2),
        ("reference: python -c pass", py + ["-c", "pass"], 0),
        ("reference: python -c 'import torch'", py + ["-c", "import torch"], 0),
        ("old list: load_all() then the table", py + ["-c", OLD_LIST], 0),
    ]


def time_once(cmd: list[str], expected: int) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd`` (which must exit with ``expected``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != expected:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}, expected {expected}\n{p.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--old-cli", metavar="FILE",
                    help="also time a previous cli.py, run as a script, e.g. from "
                         "'git show 28b0a0d:src/introdl/cli.py > /tmp/cli_old.py'")
    a = ap.parse_args()

    script = Path(sys.executable).with_name("introdl")
    introdl = [str(script)] if script.exists() else [sys.executable, "-m", "introdl.cli"]
    if not script.exists() and shutil.which("introdl"):
        introdl = [shutil.which("introdl")]
    todo = cases(introdl, a.old_cli)
    load = [os.getloadavg()[0]]
    for _, cmd, rc in todo:  # warm-up: page cache, .pyc files
        time_once(cmd, rc)
    walls: dict[str, list[float]] = {label: [] for label, _, _ in todo}
    cpus: dict[str, list[float]] = {label: [] for label, _, _ in todo}
    for i in range(a.repeats):
        k = i % len(todo)
        for label, cmd, rc in todo[k:] + todo[:k]:
            w, c = time_once(cmd, rc)
            walls[label].append(w)
            cpus[label].append(c)
        load.append(os.getloadavg()[0])

    from introdl.runtime import machine_description  # after timing: imports torch here only

    print(f"machine: {machine_description()}")
    print(f"load average (1 min) during the run: {min(load):.1f}-{max(load):.1f}")
    old = f" --old-cli {a.old_cli}" if a.old_cli else ""
    print(f"command: python benchmarks/cli_startup.py --repeats {a.repeats}{old}\n")
    print("| case | wall min (s) | wall median (s) | CPU median (s) |")
    print("|---|---:|---:|---:|")
    for label, _, _ in todo:
        print(f"| {label} | {min(walls[label]):.2f} | {statistics.median(walls[label]):.2f} "
              f"| {statistics.median(cpus[label]):.2f} |")
    lst = statistics.median(walls["introdl list"])
    print(f"\n`introdl list` median {lst:.2f} s: target <= 1.5 s "
          f"{'met' if lst <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
