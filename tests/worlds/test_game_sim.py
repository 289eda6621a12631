"""A tiny ``game-sim`` run: it writes the checkpoint ``play`` reads, the table and the figure,
scores held-out games only, and refuses bad settings in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rich.console import Console

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.worlds.experiments.game_sim import _held_out
from introdl.worlds.game.agent import record_clips
from introdl.worlds.game.model import load_simulator

TINY = ["train_clips=16", "test_clips=10", "clip_steps=3", "steps=4", "batch_size=8",
        "ablation=true"]


def test_tiny_run_writes_checkpoint_table_and_figure(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("game-sim"), out=out, quick=True, device="cpu", sets=TINY,
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for k in ("open_loop_mse_ratio", "one_step_mse_ratio", "moves_with_action",
              "eaten_stays_gone", "uneaten_stays", "nomem_open_loop_mse_ratio"):
        assert k in m
    assert m["hold_moves_with_action"] == 0.0 and m["hold_uneaten_stays"] == 1.0
    assert m["open_loop_mse_ratio"] == pytest.approx(m["open_loop_mse"]
                                                     / m["hold_first_frame_mse"])
    assert "simulated game" in (out / "results.md").read_text()
    assert (out / "game-sim-rollouts.png").stat().st_size > 5_000
    model, extra = load_simulator(out)
    assert extra["game"]["n_ghosts"] == 2 and model.cfg.memory == 8


def test_held_out_drops_wall_layouts_seen_in_training():
    train = record_clips(6, 2, 0)
    test = record_clips(4, 2, 1)
    both = type(test)(*[np.concatenate([getattr(test, f), getattr(train, f)[:2]])
                        for f in ("frames", "actions", "walls", "agent", "food")])
    kept, dropped = _held_out(train, both)
    assert dropped >= 2 and len(kept) == len(both) - dropped
    seen = {w.tobytes() for w in train.walls}
    assert not any(w.tobytes() in seen for w in kept.walls)


@pytest.mark.parametrize("sets,fragment", [(["epsilon=2"], "epsilon"),
                                           (["train_clips=2"], "train_clips"),
                                           (["memory=0"], "ablation")])
def test_bad_settings_are_one_line(tmp_path, sets, fragment):
    with pytest.raises(UsageError, match=fragment):
        run_experiment(get("game-sim"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)


def test_settings_where_the_agent_is_always_caught_are_refused_before_training(tmp_path):
    sets = ["n_ghosts=4", "p_chase=1", "epsilon=1", "clip_steps=50", "train_clips=4",
            "batch_size=2"]
    with pytest.raises(UsageError, match="caught in almost every recorded game; use fewer "
                                         "n_ghosts") as e:
        run_experiment(get("game-sim"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)
    assert "\n" not in str(e.value)
    assert not (tmp_path / "r" / "game_sim.pt").exists()
