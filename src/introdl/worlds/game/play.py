"""Play the learned simulator: arrow keys in a terminal, or a scripted policy; writes a GIF.

A new game is drawn from ``seed`` with the game parameters stored in the checkpoint; the
simulator sees its first frame only and then imagines every frame from the actions. The true
game runs beside it on the same actions (until the agent is caught or the food is gone), so
the GIF shows ``game | simulator`` side by side; the terminal shows the simulator.

Interactive mode (stdin is a terminal, no ``steps``): the terminal is put in raw mode
(termios/tty) and restored on exit; arrow keys move, ``q`` (or Ctrl-C) ends the episode. Frames
are drawn with ANSI true-colour half blocks (two pixel rows per text line).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from introdl import io
from introdl.errors import UsageError
from introdl.worlds.game.agent import Policy, choose_action
from introdl.worlds.game.engine import GameParams, GameState, new_game, render, step
from introdl.worlds.game.model import load_simulator

KEYS = {"\x1b[A": 0, "\x1b[B": 1, "\x1b[D": 2, "\x1b[C": 3}  # up, down, left, right
QUIT = object()


@dataclass
class Episode:
    actions: list[int]
    simulated: list[np.ndarray]  # (3, H, W) frames, the first one is the real first frame
    real: list[np.ndarray]
    gif: Path


def ansi_frame(frame: np.ndarray, scale: int = 1) -> str:
    """A (3, H, W) frame in [0, 1] as ANSI true-colour text (upper half blocks)."""
    img = (np.clip(frame, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
    img = img.repeat(scale, 0).repeat(scale, 1)
    if len(img) % 2:
        img = np.concatenate([img, np.zeros_like(img[:1])])
    lines = []
    for top, bottom in zip(img[0::2], img[1::2], strict=True):
        cells = [f"\x1b[38;2;{t[0]};{t[1]};{t[2]}m\x1b[48;2;{b[0]};{b[1]};{b[2]}m\u2580"
                 for t, b in zip(top, bottom, strict=True)]
        lines.append("".join(cells) + "\x1b[0m")
    return "\n".join(lines)


def read_key(stream: TextIO) -> int | object:
    """One action from the arrow keys (QUIT for q, Ctrl-C or another escape sequence);
    other keys are ignored."""
    while True:
        ch = stream.read(1)
        if ch in ("q", "Q", "\x03", ""):
            return QUIT
        if ch == "\x1b":
            seq = ch + stream.read(2)
            if seq in KEYS:
                return KEYS[seq]
            return QUIT


@contextlib.contextmanager
def raw_terminal(stream: TextIO) -> Iterator[None]:
    """Raw mode on a terminal ``stream`` (restored on exit, also after Ctrl-C)."""
    import termios
    import tty

    fd = stream.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def write_gif(path: Path, frames: list[np.ndarray], fps: float = 4.0) -> Path:
    """Frames (H, W, 3) uint8 as an animated GIF, written atomically."""
    import imageio.v3 as iio

    with io.atomic_open(path, "wb") as f:
        iio.imwrite(f, np.stack(frames), extension=".gif", duration=1000 / fps, loop=0)
    return path


def _panel(real: np.ndarray, sim: np.ndarray, scale: int = 4) -> np.ndarray:
    gap = np.ones((3, real.shape[1], 2), dtype=np.float32)
    img = np.concatenate([real, gap, np.clip(sim, 0, 1)], 2)
    img = (img * 255).astype(np.uint8).transpose(1, 2, 0)
    return img.repeat(scale, 0).repeat(scale, 1)


def play(checkpoint: str | os.PathLike, gif: str | os.PathLike, *, steps: int | None = None,
         policy: Policy = "random", seed: int = 0, force: bool = False,
         keys: Callable[[], int | object] | None = None, screen: TextIO | None = None,
         device: str | torch.device = "cpu") -> Episode:
    """One episode of the simulator; ``steps`` actions from ``policy``, or keys until quit.

    ``keys`` returns the next action (or QUIT); ``screen`` receives the ANSI frames.

    Raises:
        UsageError: missing/invalid checkpoint, or ``gif`` exists and ``force`` is False.
    """
    gif = Path(gif)
    if gif.exists() and not force:
        raise UsageError(f"{gif} exists; pass --force to overwrite it or --out for another file")
    model, extra = load_simulator(checkpoint, device)
    params = GameParams(**extra.get("game", {}))
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    game: GameState = new_game(params, rng)
    first = render(game, params.pixels)
    real, simulated, actions = [first], [first], []
    with torch.no_grad():
        state = model.start(torch.from_numpy(first)[None].to(device))
        t = 0
        while steps is None or t < steps:
            if screen is not None:
                screen.write("\x1b[H\x1b[2J" + ansi_frame(simulated[-1], 2).replace("\n", "\r\n")
                             + f"\r\nstep {t}  arrows move, q quits\r\n")
                screen.flush()
            if keys is not None:
                a = keys()
                if a is QUIT:
                    break
            else:
                a = choose_action(game, rng, policy) if not game.done else \
                    int(rng.integers(4))
            actions.append(int(a))
            if not game.done:
                game = step(game, int(a), params, rng)
            real.append(render(game, params.pixels))
            state, _, _ = model.step(state, torch.tensor([int(a)], device=device), generator=gen)
            simulated.append(state.frame[0].clamp(0, 1).cpu().numpy())
            t += 1
    write_gif(gif, [_panel(r, s) for r, s in zip(real, simulated, strict=True)])
    return Episode(actions, simulated, real, gif)


def play_terminal(checkpoint: str | os.PathLike, gif: str | os.PathLike, *, seed: int = 0,
                  force: bool = False, device: str | torch.device = "cpu") -> Episode:
    """Interactive play on this process's terminal (stdin must be a TTY)."""
    if not sys.stdin.isatty():
        raise UsageError("stdin is not a terminal; pass --steps N --policy random|agent to "
                         "play without keys")
    with raw_terminal(sys.stdin):
        return play(checkpoint, gif, seed=seed, force=force, device=device,
                    keys=lambda: read_key(sys.stdin), screen=sys.stdout)
