"""The policy that plays the game to record (frame, action) clips, and the clip recorder.

Policy (``agent`` here): with probability ``epsilon`` (default 0.3) a uniformly random action
(so the recorded data also holds moves into walls); otherwise the first step of a shortest
path (breadth-first search) to the nearest food, avoiding cells next to a ghost while the
agent has no power when such a path exists. ``random``: every action uniform.

A clip is ``steps`` actions and ``steps + 1`` frames from a new game. Clips in which the agent
is caught (at any step, the last one included) or eats all the food before the last action
are discarded and another game is drawn (a stated selection: the simulator learns the game
while it is running). Every clip of one call comes from its own game drawn from one seeded
generator, so calls with different seeds give held-out maps and ghost moves.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from introdl.worlds.game.engine import (
    FOOD,
    MOVES,
    PELLET,
    WALL,
    GameParams,
    GameState,
    new_game,
    render,
    step,
)

Policy = Literal["agent", "random"]


def _danger(state: GameState) -> set[tuple[int, int]]:
    if state.power > 0:
        return set()
    out = set()
    for r, c in state.ghosts:
        out.add((r, c))
        for dr, dc in MOVES:
            out.add((r + int(dr), c + int(dc)))
    return out


def _path_action(state: GameState, avoid: set[tuple[int, int]]) -> int | None:
    """First action of a shortest path to the nearest food, not entering ``avoid``."""
    grid = state.grid
    start = state.agent
    first: dict[tuple[int, int], int] = {start: -1}
    todo = deque([start])
    while todo:
        p = todo.popleft()
        if p != start and grid[p] in (FOOD, PELLET):
            return first[p]
        for a, (dr, dc) in enumerate(MOVES):
            n = (p[0] + int(dr), p[1] + int(dc))
            if grid[n] == WALL or n in first or n in avoid:
                continue
            first[n] = a if p == start else first[p]
            todo.append(n)
    return None


def choose_action(state: GameState, rng: np.random.Generator, policy: Policy = "agent",
                  epsilon: float = 0.3) -> int:
    """One action of ``policy`` (see the module docstring)."""
    if policy == "random" or rng.random() < epsilon:
        return int(rng.integers(len(MOVES)))
    a = _path_action(state, _danger(state))
    if a is None:
        a = _path_action(state, set())
    return int(rng.integers(len(MOVES))) if a is None else a


@dataclass
class Clips:
    """Recorded clips: ``frames`` (N, T+1, 3, H, W) float32, ``actions`` (N, T) int64,
    ``walls`` (N, S, S) bool, ``agent`` (N, T+1, 2) and ``food`` (N, T+1, S, S) bool
    (food or pellet) from the true game, for the evaluation."""

    frames: np.ndarray
    actions: np.ndarray
    walls: np.ndarray
    agent: np.ndarray
    food: np.ndarray

    def __len__(self) -> int:
        return len(self.actions)


def record_clips(n: int, steps: int, seed: int | np.random.Generator,
                 params: GameParams | None = None, policy: Policy = "agent",
                 epsilon: float = 0.3) -> Clips:
    """``n`` clips of ``steps`` actions, each from a new game (see the module docstring)."""
    params = params or GameParams()
    rng = np.random.default_rng(seed)
    frames, actions, walls, agent, food = [], [], [], [], []
    tries = 0
    while len(actions) < n:
        tries += 1
        if tries > 50 * n + 100:
            raise RuntimeError("the agent is caught in almost every game; check GameParams")
        st = new_game(params, rng)
        fr, ac, ag, fo = [render(st, params.pixels)], [], [st.agent], [_food(st)]
        for _ in range(steps):
            if st.done:
                break
            a = choose_action(st, rng, policy, epsilon)
            st = step(st, a, params, rng)
            fr.append(render(st, params.pixels))
            ac.append(a)
            ag.append(st.agent)
            fo.append(_food(st))
        if len(ac) < steps or st.caught:
            continue
        frames.append(np.stack(fr))
        actions.append(ac)
        walls.append(st.walls)
        agent.append(ag)
        food.append(np.stack(fo))
    return Clips(np.stack(frames), np.asarray(actions, dtype=np.int64), np.stack(walls),
                 np.asarray(agent, dtype=np.int64), np.stack(food))


def _food(st: GameState) -> np.ndarray:
    return (st.grid == FOOD) | (st.grid == PELLET)
