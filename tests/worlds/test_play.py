"""``introdl play game-sim``: scripted episodes write a GIF, key presses steer, bad input is
one line with exit code 2."""

from __future__ import annotations

import io

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from introdl.cli import main
from introdl.errors import UsageError
from introdl.worlds.game.model import CHECKPOINT_NAME, GameSimulator, SimConfig, save_simulator
from introdl.worlds.game.play import QUIT, ansi_frame, play, read_key


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("game_run")
    save_simulator(d / CHECKPOINT_NAME, GameSimulator(SimConfig()),
                   {"game": {"n_ghosts": 1, "p_chase": 0.5}})
    return d


def test_scripted_episode_writes_side_by_side_gif(run_dir, tmp_path):
    gif = tmp_path / "a.gif"
    ep = play(run_dir, gif, steps=5, policy="agent", seed=3)
    frames = iio.imread(gif)
    assert frames.shape[0] == 6 and frames.shape[-1] == 3  # first frame + 5 steps
    assert len(ep.actions) == 5 and all(a in range(4) for a in ep.actions)
    assert np.array_equal(ep.simulated[0], ep.real[0])  # the simulator sees the first frame
    assert frames.shape[2] > 2 * frames.shape[1] - 20  # game | simulator
    again = play(run_dir, tmp_path / "b.gif", steps=5, policy="agent", seed=3)
    assert again.actions == ep.actions
    with pytest.raises(UsageError, match="--force"):
        play(run_dir, gif, steps=2)
    assert len(play(run_dir, gif, steps=2, force=True).actions) == 2


def test_arrow_keys_steer_until_q(run_dir, tmp_path):
    keys = io.StringIO("\x1b[A\x1b[Cx\x1b[Bq")
    screen = io.StringIO()
    ep = play(run_dir, tmp_path / "k.gif", keys=lambda: read_key(keys), screen=screen)
    assert ep.actions == [0, 3, 1]  # up, right, (x ignored), down, then q
    assert "\x1b[38;2;" in screen.getvalue() and "q quits" in screen.getvalue()
    assert read_key(io.StringIO("")) is QUIT


def test_ansi_frame_draws_two_pixel_rows_per_line():
    frame = np.zeros((3, 4, 6), dtype=np.float32)
    frame[0, 0, 0] = 1.0
    text = ansi_frame(frame)
    assert text.count("\n") == 1 and text.count("\u2580") == 12
    assert text.startswith("\x1b[38;2;255;0;0m")


def test_cli_play_and_its_one_line_errors(run_dir, tmp_path, capsys):
    gif = tmp_path / "c.gif"
    argv = ["play", "game-sim", "--checkpoint", str(run_dir), "--steps", "3", "--out",
            str(gif)]
    assert main(argv) == 0
    assert iio.imread(gif).shape[0] == 4
    capsys.readouterr()
    for bad, fragment in ((argv, "--force"),
                          (["play", "game-sim", "--checkpoint", str(tmp_path / "no"),
                            "--steps", "2"], "no game-sim checkpoint"),
                          ([*argv[:5], "0"], "--steps"),
                          ([*argv, "--seed", "-1"], "--seed -1 is out of range"),
                          ([*argv, "--seed", str(2**32)], "--seed 4294967296 is out of range"),
                          ([*argv[:6], "--out", str(tmp_path / "x.png")], ".gif"),
                          (argv[:4], "not a terminal")):
        assert main(bad) == 2
        err = capsys.readouterr().err.strip()
        assert fragment in err and len(err.splitlines()) == 1, err
