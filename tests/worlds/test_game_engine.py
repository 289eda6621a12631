"""The grid game's rules (walls block, food counts, pellets, ghosts), its frames and clips."""

from __future__ import annotations

import numpy as np
import pytest

from introdl.worlds.game.agent import choose_action, record_clips
from introdl.worlds.game.engine import (
    COLORS,
    FLOOR,
    FOOD,
    PELLET,
    WALL,
    GameParams,
    GameState,
    new_game,
    render,
    step,
)

NO_GHOST = GameParams(n_ghosts=0)


def corridor(agent=(1, 1), ghosts=(), food=((1, 2), (1, 3)), pellet=None) -> GameState:
    """A 5x5 board: border walls, one interior wall at (2, 2)."""
    grid = np.full((5, 5), WALL)
    grid[1:4, 1:4] = FLOOR
    grid[2, 2] = WALL
    for p in food:
        grid[p] = FOOD
    if pellet:
        grid[pellet] = PELLET
    return GameState(grid, agent, list(ghosts), list(ghosts))


def test_walls_block_and_free_moves_go_one_cell():
    rng = np.random.default_rng(0)
    st = corridor()
    assert step(st, 0, NO_GHOST, rng).agent == (1, 1)  # up: border wall
    assert step(st, 2, NO_GHOST, rng).agent == (1, 1)  # left: border wall
    assert step(st, 3, NO_GHOST, rng).agent == (1, 2)  # right: free
    assert step(st, 1, NO_GHOST, rng).agent == (2, 1)  # down: free
    assert step(corridor(agent=(1, 2)), 1, NO_GHOST, rng).agent == (1, 2)  # interior wall


def test_food_counts_once_and_stays_eaten():
    rng = np.random.default_rng(0)
    st = corridor()
    assert st.food_left == 2
    st = step(st, 3, NO_GHOST, rng)  # onto food (1, 2)
    assert (st.score, st.food_left, st.grid[1, 2], st.eaten) == (1, 1, FLOOR, [(1, 2)])
    st = step(step(st, 2, NO_GHOST, rng), 3, NO_GHOST, rng)  # leave and come back
    assert (st.score, st.food_left) == (1, 1)
    st = step(st, 3, NO_GHOST, rng)  # the last food ends the episode
    assert (st.score, st.food_left, st.done, st.caught) == (2, 0, True, False)
    with pytest.raises(ValueError, match="over"):
        step(st, 0, NO_GHOST, rng)
    with pytest.raises(ValueError, match="0..3"):
        step(corridor(), 4, NO_GHOST, rng)


def test_pellet_gives_power_and_ghost_contact_follows_it():
    chase = GameParams(n_ghosts=1, p_chase=1.0, power_steps=3)
    rng = np.random.default_rng(0)
    # without power: the chasing ghost walks into the agent -> caught
    st = step(corridor(agent=(1, 1), ghosts=[(3, 1)], food=[(3, 3)]), 2, chase, rng)
    st = step(st, 2, chase, rng)
    assert st.caught and st.done
    # a pellet first: the ghost flees; walked into, it is eaten and sent home
    st = step(corridor(agent=(1, 1), ghosts=[(1, 3)], food=[(3, 3)], pellet=(1, 2)), 3,
              chase, rng)
    assert st.power == 3 and st.score == 1
    ghost_params = GameParams(n_ghosts=1, p_chase=0.0, power_steps=3)
    eaten = GameState(st.grid.copy(), (1, 2), [(1, 3)], [(3, 1)], power=3)
    for seed in range(20):  # whatever the random ghost does, contact eats it
        nxt = step(eaten, 3, ghost_params, np.random.default_rng(seed))
        if nxt.agent == (1, 3) and nxt.score == 5:
            assert nxt.ghosts == [(3, 1)] and not nxt.caught
            break
    else:
        pytest.fail("the ghost was never eaten")
    for _ in range(3):  # power runs out after power_steps steps
        st = step(st, 0, GameParams(n_ghosts=1, p_chase=0.0, power_steps=3), rng)
        if st.done:
            break
    assert st.power == 0


def test_ghosts_never_enter_walls_and_chase_when_told():
    rng = np.random.default_rng(1)
    params = GameParams(p_chase=1.0)
    st = new_game(params, 3)
    for _ in range(30):
        if st.done:
            break
        before = [abs(g[0] - st.agent[0]) + abs(g[1] - st.agent[1]) for g in st.ghosts]
        st = step(st, choose_action(st, rng, "random"), params, rng)
        assert all(st.grid[g] != WALL for g in st.ghosts)
        after = [abs(g[0] - st.agent[0]) + abs(g[1] - st.agent[1]) for g in st.ghosts]
        assert all(a <= b + 1 for a, b in zip(after, before, strict=True))  # agent moved 1


def test_new_game_is_seeded_connected_and_follows_its_parameters():
    a, b, c = new_game(GameParams(), 5), new_game(GameParams(), 5), new_game(GameParams(), 6)
    assert np.array_equal(a.grid, b.grid) and a.agent == b.agent and a.ghosts == b.ghosts
    assert not np.array_equal(a.grid, c.grid)
    for n_walls in (0, 8):
        g = new_game(GameParams(n_walls=n_walls), 0).grid
        assert (g[1:-1, 1:-1] == WALL).sum() == n_walls
    g = new_game(GameParams(n_pellets=3, n_ghosts=3), 2)
    assert (g.grid == PELLET).sum() == 3 and len(g.ghosts) == 3
    assert g.food_left == (g.grid != WALL).sum() - 1  # food everywhere but the agent's cell
    assert all(abs(r - g.agent[0]) + abs(c - g.agent[1]) >= 3 for r, c in g.ghosts)


def test_render_draws_the_palette_cell_by_cell():
    st = corridor(ghosts=[(3, 3)])
    img = render(st, pixels=4)
    assert img.shape == (3, 20, 20) and img.dtype == np.float32
    assert np.allclose(img[:, 1, 1], COLORS["wall"])  # border
    assert np.allclose(img[:, 5, 5], COLORS["agent"])  # cell (1, 1)
    assert np.allclose(img[:, 5:7, 9:11].reshape(3, -1).T, COLORS["food"])  # (1, 2) centre
    assert np.allclose(img[:, 4, 8], 0)  # food is a dot: the cell's corner is floor
    assert np.allclose(img[:, 14, 14], COLORS["ghost"])
    st.power = 2
    assert np.allclose(render(st)[:, 14, 14], COLORS["scared"])
    assert render(st, pixels=3).shape == (3, 15, 15)


def test_clips_are_seeded_and_the_policy_heads_for_food():
    a, b = record_clips(4, 6, 0), record_clips(4, 6, 0)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.actions, b.actions)
    assert not np.array_equal(a.frames, record_clips(4, 6, 1).frames)
    assert a.frames.shape == (4, 7, 3, 32, 32) and a.agent.shape == (4, 7, 2)
    greedy = record_clips(20, 8, 0, epsilon=0.0)
    rand = record_clips(20, 8, 0, policy="random")
    eaten = lambda c: (c.food[:, 0].sum() - c.food[:, -1].sum()) / len(c)  # noqa: E731
    assert eaten(greedy) > 1.5 * eaten(rand)
    for c in (greedy, rand):  # the recorded food matches the frames' first food count
        assert (c.food[:, 1:] <= c.food[:, :-1]).all()  # food never comes back
