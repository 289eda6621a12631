"""A small Pac-Man-like grid game, written for the project: the "real" game GameGAN learns.

Generative model (every draw from one seeded ``numpy.random.Generator``):

- **Map**: a ``size`` x ``size`` grid (default 8) with a border of walls; ``n_walls``
  (default 5) interior wall cells drawn uniformly, redrawn until the free cells form one
  4-connected region. Food on every free cell except the agent's start; ``n_pellets``
  (default 2) of those food cells hold a power pellet instead.
- **Agent**: starts on a uniformly drawn free cell. Actions 0 up, 1 down, 2 left, 3 right move
  it one cell; a move into a wall leaves it where it is (walls block). Stepping on food
  eats it (+1 score, the cell is empty from then on); a pellet gives +1 and ``power_steps``
  (default 8) steps of power.
- **Ghosts**: ``n_ghosts`` (default 2) start on free cells at Manhattan distance >= 3 from the
  agent. Each step every ghost moves to a free neighbour: with probability ``p_chase``
  (default 0.6) the one closest to the agent (the farthest while the agent has power), else
  a uniformly random one. Ghosts never eat food.
- **Contact** (same cell, or agent and ghost swapping cells): with power the ghost is eaten
  (+5) and goes back to its start cell; without, the agent is caught and the episode ends.

Frames (:func:`render`): ``pixels`` (default 4) pixels per cell, float32 RGB in [0, 1],
``(3, size * pixels, size * pixels)``: black floor, blue walls, a white 2x2 dot for food,
a pink disc for a pellet, red ghosts (light blue while the agent has power), a yellow agent
drawn last. Everything here is simulated.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

ACTIONS = ("up", "down", "left", "right")
MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])  # (row, col) per action

FLOOR, WALL, FOOD, PELLET = 0, 1, 2, 3

COLORS = {  # RGB in [0, 1]
    "floor": (0.0, 0.0, 0.0),
    "wall": (0.1, 0.2, 0.9),
    "food": (1.0, 1.0, 1.0),
    "pellet": (1.0, 0.6, 0.8),
    "ghost": (1.0, 0.1, 0.1),
    "scared": (0.4, 0.8, 1.0),
    "agent": (1.0, 1.0, 0.0),
}


@dataclass(frozen=True)
class GameParams:
    """The game's stated parameters (see the module docstring)."""

    size: int = 8
    n_walls: int = 5
    n_pellets: int = 2
    n_ghosts: int = 2
    p_chase: float = 0.6
    power_steps: int = 8
    pixels: int = 4


@dataclass
class GameState:
    """Everything that defines a game position; ``grid`` holds FLOOR/WALL/FOOD/PELLET."""

    grid: np.ndarray
    agent: tuple[int, int]
    ghosts: list[tuple[int, int]]
    ghost_homes: list[tuple[int, int]]
    power: int = 0
    score: int = 0
    done: bool = False
    caught: bool = False
    steps: int = 0
    eaten: list[tuple[int, int]] = field(default_factory=list)  # cells eaten, in order

    def copy(self) -> GameState:
        return GameState(self.grid.copy(), self.agent, list(self.ghosts), list(self.ghost_homes),
                         self.power, self.score, self.done, self.caught, self.steps,
                         list(self.eaten))

    @property
    def walls(self) -> np.ndarray:
        return self.grid == WALL

    @property
    def food_left(self) -> int:
        return int(((self.grid == FOOD) | (self.grid == PELLET)).sum())


def _connected(free: np.ndarray) -> bool:
    cells = list(zip(*np.nonzero(free), strict=True))
    if not cells:
        return False
    seen = {cells[0]}
    todo = deque([cells[0]])
    while todo:
        r, c = todo.popleft()
        for dr, dc in MOVES:
            n = (r + dr, c + dc)
            if free[n] and n not in seen:
                seen.add(n)
                todo.append(n)
    return len(seen) == len(cells)


def new_game(params: GameParams, rng: np.random.Generator | int) -> GameState:
    """Draw a map, food, pellets, the agent and the ghosts (see the module docstring)."""
    rng = np.random.default_rng(rng)
    s = params.size
    interior = [(r, c) for r in range(1, s - 1) for c in range(1, s - 1)]
    while True:
        grid = np.full((s, s), WALL, dtype=np.int64)
        for r, c in interior:
            grid[r, c] = FLOOR
        for i in rng.choice(len(interior), size=params.n_walls, replace=False):
            grid[interior[i]] = WALL
        if _connected(grid == FLOOR):
            break
    free = [tuple(int(v) for v in p) for p in zip(*np.nonzero(grid == FLOOR), strict=True)]
    agent = free[int(rng.integers(len(free)))]
    rest = [p for p in free if p != agent]
    for p in rest:
        grid[p] = FOOD
    for i in rng.choice(len(rest), size=min(params.n_pellets, len(rest)), replace=False):
        grid[rest[i]] = PELLET
    far = [p for p in rest if abs(p[0] - agent[0]) + abs(p[1] - agent[1]) >= 3] or rest
    idx = rng.choice(len(far), size=min(params.n_ghosts, len(far)), replace=False)
    ghosts = [far[i] for i in idx]
    return GameState(grid, agent, list(ghosts), list(ghosts))


def _free_neighbours(grid: np.ndarray, p: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for dr, dc in MOVES:
        n = (p[0] + dr, p[1] + dc)
        if grid[n] != WALL:
            out.append(n)
    return out


def move(grid: np.ndarray, p: tuple[int, int], action: int) -> tuple[int, int]:
    """Where ``action`` takes a piece at ``p``: one cell on, or ``p`` itself into a wall."""
    dr, dc = MOVES[action]
    n = (p[0] + int(dr), p[1] + int(dc))
    return p if grid[n] == WALL else n


def step(state: GameState, action: int, params: GameParams, rng: np.random.Generator
         ) -> GameState:
    """Advance one step (agent, eating, ghosts, contact). Returns a new state."""
    if state.done:
        raise ValueError("the episode is over; start a new game")
    if action not in range(len(ACTIONS)):
        raise ValueError(f"action must be 0..3 ({', '.join(ACTIONS)}), got {action}")
    st = state.copy()
    st.steps += 1
    old_agent = st.agent
    st.agent = move(st.grid, st.agent, action)
    if st.grid[st.agent] in (FOOD, PELLET):
        if st.grid[st.agent] == PELLET:
            st.power = params.power_steps + 1  # counted down below: power_steps steps left
        st.grid[st.agent] = FLOOR
        st.score += 1
        st.eaten.append(st.agent)
    ar, ac = st.agent
    for i, g in enumerate(st.ghosts):
        options = _free_neighbours(st.grid, g)
        if not options:
            continue
        if rng.random() < params.p_chase:
            dist = [abs(r - ar) + abs(c - ac) for r, c in options]
            pick = int(np.argmax(dist)) if st.power > 0 else int(np.argmin(dist))
        else:
            pick = int(rng.integers(len(options)))
        old_ghost, st.ghosts[i] = g, options[pick]
        if st.ghosts[i] == st.agent or (st.ghosts[i] == old_agent and old_ghost == st.agent):
            if st.power > 0:
                st.ghosts[i] = st.ghost_homes[i]
                st.score += 5
            else:
                st.caught = st.done = True
    st.power = max(st.power - 1, 0)
    if st.food_left == 0:
        st.done = True
    return st


def render(state: GameState, pixels: int = 4) -> np.ndarray:
    """The state as a float32 RGB frame ``(3, H, W)`` (see the module docstring)."""
    s = state.grid.shape[0]
    img = np.zeros((s * pixels, s * pixels, 3), dtype=np.float32)
    k = pixels
    lo, hi = k // 2 - 1, k // 2 + 1  # the centre 2x2 pixels (a dot)
    disc = np.ones((k, k), dtype=bool)
    for r, c in ((0, 0), (0, k - 1), (k - 1, 0), (k - 1, k - 1)):
        disc[r, c] = False

    def cell(p: tuple[int, int]) -> np.ndarray:
        return img[p[0] * k:(p[0] + 1) * k, p[1] * k:(p[1] + 1) * k]

    for r in range(s):
        for c in range(s):
            v = state.grid[r, c]
            if v == WALL:
                cell((r, c))[:] = COLORS["wall"]
            elif v == FOOD:
                cell((r, c))[lo:hi, lo:hi] = COLORS["food"]
            elif v == PELLET:
                cell((r, c))[disc] = COLORS["pellet"]
    ghost = np.ones((k, k), dtype=bool)
    ghost[0, 0] = ghost[0, k - 1] = False
    for g in state.ghosts:
        cell(g)[ghost] = COLORS["scared" if state.power > 0 else "ghost"]
    cell(state.agent)[disc] = COLORS["agent"]
    return np.ascontiguousarray(img.transpose(2, 0, 1))
