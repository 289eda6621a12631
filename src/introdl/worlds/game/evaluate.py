"""What the simulator gets right on held-out games: frames, the agent's moves, eaten food.

Read off generated frames by the game's palette (no learned probe):

- the agent's cell: the cell with the most "yellow" (mean over its pixels of
  ``min(R, G) - B``), if that exceeds 0.3 (else: no agent drawn);
- a cell's item: its centre 2x2 pixels are "food" when their darkest channel is > 0.5 (white
  dot or pink pellet), "empty" when every channel is < 0.35, otherwise "covered" (a ghost or
  the agent over it, or a smudge) and not counted.

Measures, on rollouts that see only the first frame and the actions (open-loop):

- per-step mean squared error against the true frames, beside holding the first frame (the
  last frame the simulator saw); and the one-step error (the true previous frame shown every
  step) beside copying the last frame;
- action following: where the game would move the simulator's own agent (its detected cell,
  the true map's walls), does the next generated frame show it one cell on in the action's
  direction; moves into a wall are counted apart (the agent should stay);
- memory: once the simulator's agent has stood on a food cell, is that cell drawn empty in
  every later frame (``eaten_stays_gone``); food cells it has not reached yet must still be
  drawn (``uneaten_stays``). Holding the first frame is scored along the true game's path
  (it draws no moving agent): it keeps all food, so it scores 0 on the first and 1 on the
  second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from introdl.worlds.game.agent import Clips
from introdl.worlds.game.engine import MOVES
from introdl.worlds.game.model import GameSimulator

FOOD_CELL, EMPTY_CELL, COVERED = 1, 0, -1


def cells(frames: np.ndarray, pixels: int) -> np.ndarray:
    """(..., 3, H, W) -> (..., G, G, 3, pixels, pixels): each grid cell's patch."""
    *lead, c, h, w = frames.shape
    g = h // pixels
    x = frames.reshape(*lead, c, g, pixels, g, pixels)
    n = len(lead)
    return x.transpose(*range(n), n + 1, n + 3, n, n + 2, n + 4)


def agent_cells(frames: np.ndarray, pixels: int) -> np.ndarray:
    """(..., 3, H, W) -> (..., 2) the agent's (row, col) by colour; (-1, -1) when none."""
    p = cells(frames, pixels)
    yellow = (np.minimum(p[..., 0, :, :], p[..., 1, :, :]) - p[..., 2, :, :]).mean((-1, -2))
    g = yellow.shape[-1]
    flat = yellow.reshape(*yellow.shape[:-2], g * g)
    best = flat.argmax(-1)
    out = np.stack([best // g, best % g], -1)
    out[flat.max(-1) <= 0.3] = -1
    return out


def item_state(frames: np.ndarray, pixels: int) -> np.ndarray:
    """(..., 3, H, W) -> (..., G, G): FOOD_CELL, EMPTY_CELL or COVERED (see module doc)."""
    lo, hi = pixels // 2 - 1, pixels // 2 + 1
    centre = cells(frames, pixels)[..., lo:hi, lo:hi]
    darkest = centre.min(-3).min((-1, -2))
    brightest = centre.max(-3).max((-1, -2))
    out = np.full(darkest.shape, COVERED, dtype=np.int64)
    out[darkest > 0.5] = FOOD_CELL
    out[brightest < 0.35] = EMPTY_CELL
    return out


@dataclass
class Evaluation:
    metrics: dict[str, float]
    step_mse: dict[str, np.ndarray]  # per-step curves
    open_loop: np.ndarray  # (N, T, 3, H, W) generated frames


@torch.no_grad()
def rollout_frames(model: GameSimulator, clips: Clips, seed: int, p_real: float = 0.0,
                   batch: int = 64) -> np.ndarray:
    """Generated frames 1..T for every clip (open-loop when ``p_real = 0``)."""
    gen = torch.Generator().manual_seed(seed)
    x, a = torch.from_numpy(clips.frames), torch.from_numpy(clips.actions)
    out = [model.rollout(x[i:i + batch, 0], a[i:i + batch], real=x[i:i + batch],
                         p_real=p_real, generator=gen).frames.clamp(0, 1)
           for i in range(0, len(x), batch)]
    return torch.cat(out).numpy()


def action_following(gen: np.ndarray, clips: Clips, pixels: int) -> tuple[float, float, int]:
    """(free-move accuracy, blocked-move accuracy, free moves counted) of generated frames."""
    pos = np.concatenate([clips.agent[:, :1], agent_cells(gen, pixels)], 1)  # (N, T+1, 2)
    free_ok, blocked_ok = [], []
    g = clips.walls.shape[-1]
    for i in range(len(clips)):
        walls = clips.walls[i]
        for t, a in enumerate(clips.actions[i]):
            r, c = pos[i, t]
            if r < 1 or c < 1 or r > g - 2 or c > g - 2 or walls[r, c]:
                free_ok.append(False)  # no agent, or drawn inside a wall: a failure
                continue
            n = (r + int(MOVES[a][0]), c + int(MOVES[a][1]))
            nxt = tuple(pos[i, t + 1])
            if walls[n]:
                blocked_ok.append(nxt == (r, c))
            else:
                free_ok.append(nxt == n)
    return float(np.mean(free_ok)), float(np.mean(blocked_ok)) if blocked_ok else float("nan"), \
        len(free_ok)


def food_memory(gen: np.ndarray, clips: Clips, pixels: int, pos: np.ndarray | None = None
                ) -> tuple[float, float, int]:
    """(eaten_stays_gone, uneaten_stays, eaten cell-steps counted) of generated frames;
    the agent's cells ``pos`` (N, T, 2) default to the ones drawn in ``gen``."""
    pos = agent_cells(gen, pixels) if pos is None else pos
    state = item_state(gen, pixels)  # (N, T, G, G)
    gone, kept = [], []
    for i in range(len(clips)):
        food0 = clips.food[i, 0]
        visited = np.zeros_like(food0)
        for t in range(pos.shape[1]):
            r, c = pos[i, t]
            here = np.zeros_like(food0)
            if r >= 0:
                here[r, c] = True
            seen = state[i, t] != COVERED
            gone += list(state[i, t][food0 & visited & ~here & seen] == EMPTY_CELL)
            kept += list(state[i, t][food0 & ~visited & ~here & seen] == FOOD_CELL)
            visited |= here
    return (float(np.mean(gone)) if gone else float("nan"),
            float(np.mean(kept)) if kept else float("nan"), len(gone))


def evaluate(model: GameSimulator, clips: Clips, seed: int) -> Evaluation:
    """Every measure of the module docstring on held-out ``clips``."""
    px = model.cfg.pixels
    x = clips.frames
    open_loop = rollout_frames(model, clips, seed)
    one_step = rollout_frames(model, clips, seed, p_real=1.0)
    curves = {
        "simulator (open-loop)": ((open_loop - x[:, 1:]) ** 2).mean((0, 2, 3, 4)),
        "hold the first frame": ((x[:, :1] - x[:, 1:]) ** 2).mean((0, 2, 3, 4)),
        "simulator (one-step)": ((one_step - x[:, 1:]) ** 2).mean((0, 2, 3, 4)),
        "copy the last frame (one-step)": ((x[:, :-1] - x[:, 1:]) ** 2).mean((0, 2, 3, 4)),
    }
    free, blocked, n_free = action_following(open_loop, clips, px)
    gone, kept, n_gone = food_memory(open_loop, clips, px)
    held = np.repeat(x[:, :1], x.shape[1] - 1, 1)
    base_free, _, _ = action_following(held, clips, px)
    base_gone, base_kept, _ = food_memory(held, clips, px, clips.agent[:, 1:])
    true_pos = agent_cells(x[:, 1:], px)
    m = {
        "open_loop_mse": float(curves["simulator (open-loop)"].mean()),
        "hold_first_frame_mse": float(curves["hold the first frame"].mean()),
        "one_step_mse": float(curves["simulator (one-step)"].mean()),
        "copy_last_frame_mse": float(curves["copy the last frame (one-step)"].mean()),
        "moves_with_action": free,
        "stays_when_blocked": blocked,
        "free_moves_counted": float(n_free),
        "hold_moves_with_action": base_free,
        "agent_cell_matches_game": float((agent_cells(open_loop, px) == true_pos)
                                         .all(-1).mean()),
        "eaten_stays_gone": gone,
        "uneaten_stays": kept,
        "eaten_cell_steps_counted": float(n_gone),
        "hold_eaten_stays_gone": base_gone,
        "hold_uneaten_stays": base_kept,
        "detector_agent_accuracy_on_real": float((true_pos == clips.agent[:, 1:]).all(-1)
                                                 .mean()),
    }
    m["open_loop_mse_ratio"] = m["open_loop_mse"] / m["hold_first_frame_mse"]
    m["one_step_mse_ratio"] = m["one_step_mse"] / m["copy_last_frame_mse"]
    return Evaluation(m, curves, open_loop)
