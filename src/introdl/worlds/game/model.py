"""GameGAN's generator: encoder + dynamics engine + memory module + rendering engine.

Given the first frame and a sequence of actions it imagines the frames that follow. At each
step the frame it is shown is the real one with probability ``p_real`` (scheduled sampling in
training), else its own last frame; ``p_real = 0`` is a pure open-loop rollout (the
simulator sees only the first frame and the actions), ``p_real = 1`` the one-step mode.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from introdl.engine import checkpoint
from introdl.errors import UsageError
from introdl.worlds.game.dynamics import ActionConvLSTM
from introdl.worlds.game.memory import GridMemory
from introdl.worlds.game.renderer import Renderer

CHECKPOINT_NAME = "game_sim.pt"


@dataclass
class SimConfig:
    """Sizes of the simulator (``memory=0`` is the ablation without a memory module)."""

    size: int = 8  # grid cells per side
    pixels: int = 4  # pixels per cell
    actions: int = 4
    frame_channels: int = 8
    hidden: int = 16
    memory: int = 8
    noise: int = 2


@dataclass
class Rollout:
    frames: torch.Tensor  # (B, T, 3, H, W): predictions of frames 1..T
    alphas: torch.Tensor  # (B, T, 1, G, G): the memory's location (zeros without memory)
    masks: torch.Tensor  # (B, T, 1, H, W): the renderer's dynamic-part mask
    dynamic: torch.Tensor  # (B, T, 3, H, W): the renderer's dynamic part alone
    where: torch.Tensor  # (B, T, G*G): the dynamics state's logits for the agent's cell


@dataclass
class SimState:
    """The simulator's state between steps: its last frame, LSTM state, memory, location."""

    frame: torch.Tensor
    h: torch.Tensor
    c: torch.Tensor
    memory: torch.Tensor | None
    alpha: torch.Tensor
    m: torch.Tensor


class GameSimulator(nn.Module):
    def __init__(self, cfg: SimConfig) -> None:
        super().__init__()
        self.cfg = cfg
        p = cfg.pixels
        f = cfg.frame_channels  # encoder: one vector per grid cell
        self.encoder = nn.Sequential(nn.Conv2d(3, f, p, stride=p), nn.LeakyReLU(0.2),
                                     nn.Conv2d(f, f, 1))
        self.dynamics = ActionConvLSTM(cfg.frame_channels, cfg.actions, cfg.noise, cfg.memory,
                                       cfg.hidden)
        self.memory = (GridMemory(cfg.frame_channels, cfg.hidden, cfg.actions, cfg.memory)
                       if cfg.memory else None)
        self.renderer = Renderer(cfg.hidden, cfg.memory, p)
        # auxiliary head (ours): the agent's cell from the dynamics state, trained with
        # cross-entropy on the true cell so the state keeps the agent's position
        self.where = nn.Conv2d(cfg.hidden, 1, 1)

    def start(self, first: torch.Tensor) -> SimState:
        """The state after seeing the first frame (B, 3, H, W)."""
        b, g = len(first), self.cfg.size
        s = self.encoder(first)
        h, c = self.dynamics.initial(s)
        if self.memory is not None:
            mem, alpha, m = self.memory.initial(s)
        else:
            mem, alpha, m = None, s.new_zeros(b, 1, g, g), s.new_zeros(b, 0)
        return SimState(first, h, c, mem, alpha, m)

    def step(self, state: SimState, action: torch.Tensor, shown: torch.Tensor | None = None,
             generator: torch.Generator | None = None
             ) -> tuple[SimState, torch.Tensor, torch.Tensor]:
        """One imagined step under ``action`` (B,) long; ``shown`` replaces the last frame
        the simulator drew (a real frame in one-step mode). Returns (state, mask, dynamic
        part)."""
        x = state.frame if shown is None else shown
        s = self.encoder(x)
        g = self.cfg.size
        z = torch.randn(len(x), self.cfg.noise, g, g, generator=generator).to(s.device)
        a = F.one_hot(action, self.cfg.actions).float()
        h, c = self.dynamics(s, a, z, state.m, (state.h, state.c))
        mem, alpha, m = state.memory, state.alpha, state.m
        if self.memory is not None:
            mem, alpha, m = self.memory(mem, alpha, h, a)
        frame, mask, dynamic = self.renderer(h, alpha, mem)
        return SimState(frame, h, c, mem, alpha, m), mask, dynamic

    def rollout(self, first: torch.Tensor, actions: torch.Tensor,
                real: torch.Tensor | None = None, p_real: float = 0.0,
                generator: torch.Generator | None = None) -> Rollout:
        """Frames after ``first`` (B, 3, H, W) under ``actions`` (B, T); ``real`` (B, T+1, ...)
        are the true frames, shown with probability ``p_real`` per clip and step."""
        b, steps = actions.shape
        state = self.start(first)
        frames, alphas, masks, dynamic, where = [], [], [], [], []
        for t in range(steps):
            shown = None
            if t > 0 and real is not None and p_real > 0:
                use = (torch.rand(b, generator=generator) < p_real).float()
                use = use.to(first.device)[:, None, None, None]
                shown = use * real[:, t] + (1 - use) * state.frame
            state, mask, dyn = self.step(state, actions[:, t], shown, generator)
            frames.append(state.frame)
            alphas.append(state.alpha)
            masks.append(mask)
            dynamic.append(dyn)
            where.append(self.where(state.h).flatten(1))
        return Rollout(*(torch.stack(v, 1) for v in (frames, alphas, masks, dynamic, where)))


def save_simulator(path: str | os.PathLike, model: GameSimulator, extra: dict | None = None
                   ) -> Path:
    """Write the simulator (weights + config) atomically, loadable with ``weights_only``."""
    return checkpoint.save(path, {"kind": "game-sim", "config": asdict(model.cfg),
                                  "state_dict": model.state_dict(), "extra": extra or {}})


def load_simulator(path: str | os.PathLike, device: str | torch.device = "cpu"
                   ) -> tuple[GameSimulator, dict]:
    """Read a checkpoint from :func:`save_simulator` (a file or a run folder holding one).

    Raises:
        UsageError: missing file, or not a game-sim checkpoint (one line).
    """
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT_NAME
    if not p.is_file():
        raise UsageError(f"no game-sim checkpoint at {p}; train one with 'introdl run "
                         "game-sim' and pass its run folder to --checkpoint")
    state = checkpoint.load(p, map_location=device)
    try:
        if state.get("kind") != "game-sim":
            raise KeyError("kind")
        model = GameSimulator(SimConfig(**state["config"])).to(device)
        model.load_state_dict(state["state_dict"])
    except Exception as e:  # missing keys, shape mismatch
        raise UsageError(f"{p} is not a game-sim checkpoint ({type(e).__name__}); train one "
                         "with 'introdl run game-sim'") from None
    model.eval()
    return model, state.get("extra", {})
