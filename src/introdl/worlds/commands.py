"""Lecture 11's commands: ``introdl play game-sim``.

Registered by :mod:`introdl.cli`; this module imports nothing heavy. Arguments are checked
here, before torch and the simulator are imported, so bad input is one line and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from introdl.errors import UsageError

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from introdl.cli import Commands

CHECKPOINT_NAME = "game_sim.pt"  # the same as introdl.worlds.game.model.CHECKPOINT_NAME


def register(commands: Commands) -> None:
    p = commands.add("play game-sim",
                     help="steer the learned game simulator (arrow keys) and write a GIF",
                     handler=play_game_sim_command)
    p.add_argument("--checkpoint", type=Path, required=True, metavar="RUN_DIR",
                   help="run folder of 'introdl run game-sim' (or its game_sim.pt)")
    p.add_argument("--steps", type=int, help="play N steps without keys (for scripts)")
    p.add_argument("--policy", choices=("random", "agent"), default="random",
                   help="who chooses the actions with --steps")
    p.add_argument("--out", type=Path, help="GIF to write (default RUN_DIR/play.gif)")
    p.add_argument("--seed", type=int, default=0, help="the game's seed (its map and ghosts)")
    p.add_argument("--force", action="store_true", help="overwrite the GIF")
    p.add_argument("--device", default="cpu", choices=commands.devices)


def check_play_args(a: argparse.Namespace) -> tuple[Path, Path]:
    """(checkpoint file, GIF path) or a one-line UsageError."""
    from introdl.config import check_seed
    from introdl.io import check_writable

    check_seed(a.seed)
    if a.steps is not None and not 1 <= a.steps <= 10000:
        raise UsageError(f"--steps must be in 1..10000 (got {a.steps}); e.g. --steps 30")
    if a.steps is None and not sys.stdin.isatty():
        raise UsageError("stdin is not a terminal; pass --steps N --policy random|agent to "
                         "play without keys")
    ckpt: Path = a.checkpoint
    file = ckpt / CHECKPOINT_NAME if ckpt.is_dir() else ckpt
    if not file.is_file():
        raise UsageError(f"no game-sim checkpoint at {file}; train one with 'introdl run "
                         "game-sim' and pass its run folder to --checkpoint")
    gif = a.out or file.parent / "play.gif"
    if gif.suffix.lower() != ".gif":
        raise UsageError(f"--out {gif} must end in .gif")
    if gif.exists() and not a.force:
        raise UsageError(f"{gif} exists; pass --force to overwrite it or --out for another file")
    check_writable(gif.parent, "--out")
    return file, gif


def play_game_sim_command(a: argparse.Namespace, out: Console, err: Console) -> int:
    file, gif = check_play_args(a)

    from introdl.runtime import resolve_device
    from introdl.worlds.game.play import play, play_terminal

    device = resolve_device(a.device)
    if a.steps is None:
        ep = play_terminal(file, gif, seed=a.seed, force=a.force, device=device)
    else:
        ep = play(file, gif, steps=a.steps, policy=a.policy, seed=a.seed, force=a.force,
                  device=device)
    err.print(f"{len(ep.actions)} steps of the learned simulator (a simulated game, seed "
              f"{a.seed}); GIF (true game | simulator) in {ep.gif}", highlight=False)
    return 0
