"""Lecture 2's commands: ``introdl generate music``.

Registered by :mod:`introdl.cli` (see ``Commands``); this module imports nothing heavy,
so ``introdl --help`` stays fast. Arguments are checked here, before the model code
(torch, music21) is imported, so bad input is one line and exit code 2 at once.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from introdl.errors import UsageError

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from introdl.cli import Commands


def register(commands: Commands) -> None:
    m = commands.add("generate music",
                     help="tunes (.abc, .mid, .wav, piano roll) from 'run music'",
                     handler=generate_music_command)
    m.add_argument("--checkpoint", type=Path, required=True, metavar="RUN_DIR",
                   help="run folder of 'introdl run music' (or its music_lstm.pt)")
    m.add_argument("--n", type=int, default=5, help="number of tunes (>= 1)")
    m.add_argument("--temperature", type=float, default=0.8,
                   help="sampling temperature, a finite number > 0")
    m.add_argument("--start", default="X:1\\nT:", help="beginning of every tune ('\\n' = newline)")
    m.add_argument("--out", type=Path, help="output folder (default RUN_DIR/generated)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--device", default="cpu", choices=commands.devices)


def check_numbers(n: int, temperature: float) -> None:
    """One-line UsageErrors for a bad ``--n`` or ``--temperature`` (nan, inf, <= 0)."""
    if n < 1:
        raise UsageError(f"--n must be at least 1 (got {n}); e.g. --n 5")
    if not (math.isfinite(temperature) and temperature > 0):
        raise UsageError(f"--temperature must be > 0 and finite (got {temperature:g}); "
                         "e.g. --temperature 0.8")


def generate_music_command(a: argparse.Namespace, out: Console, err: Console) -> int:
    check_numbers(a.n, a.temperature)
    ckpt: Path = a.checkpoint
    if not ckpt.exists():
        raise UsageError(f"no music checkpoint at {ckpt}; train one with 'introdl run music' "
                         "and pass its run folder to --checkpoint")
    folder = a.out or (ckpt if ckpt.is_dir() else ckpt.parent) / "generated"
    from introdl.io import check_writable  # not at import: 'introdl --help' stays lean

    check_writable(folder)

    from introdl.runtime import resolve_device
    from introdl.sequences.music.generate import generate_music

    g = generate_music(ckpt, n=a.n, temperature=a.temperature,
                       start=a.start.replace("\\n", "\n"), out=folder, seed=a.seed,
                       device=resolve_device(a.device))
    for k, v in g.metrics.items():
        err.print(f"{k}: {v:.3g}")
    err.print(f"{len(g.tunes)} tunes in {g.out}/ (.abc, .mid, .wav, piano_roll.png)")
    return 0
