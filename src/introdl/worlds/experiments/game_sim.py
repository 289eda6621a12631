"""GameGAN on a simulated Pac-Man-like game: learn the game from recorded (frame, action) clips.

The game (:mod:`introdl.worlds.game.engine`: walls, food, power pellets, two ghosts that chase
with probability 0.6) is written for the project; a policy (epsilon-greedy towards the nearest
food, :mod:`introdl.worlds.game.agent`) plays it to record clips. The simulator (encoder +
action-conditioned convolutional LSTM + GameGAN's location-addressed memory + a renderer that
blends a static map from the memory with the moving pieces) is trained with reconstruction and
adversarial losses (plus two terms of ours: pixels that change between true frames weigh
more, and the agent's true cell in the training clips supervises a head on the dynamics state
and the memory's location), then rolled out open-loop (only the first frame and the actions) on
held-out games: new seeds, and any game whose wall layout occurs in training is dropped.

It saves the simulator in the run folder (``game_sim.pt``) for ``introdl play game-sim``.
With ``ablation`` it also trains the same simulator without the memory module (same budget).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from introdl.config import require
from introdl.errors import UsageError
from introdl.experiment import Claim, Fact, experiment
from introdl.report.plots import plt  # headless matplotlib
from introdl.report.tables import markdown_table
from introdl.run import Run
from introdl.worlds.game.agent import Clips, record_clips
from introdl.worlds.game.engine import GameParams
from introdl.worlds.game.evaluate import evaluate
from introdl.worlds.game.model import CHECKPOINT_NAME, GameSimulator, SimConfig
from introdl.worlds.game.train import TrainConfig, train_simulator


@dataclass
class GameSimConfig:
    train_clips: int = 1000  # recorded clips (each a new game) to train on
    test_clips: int = 200  # held-out clips (new games) to measure on
    clip_steps: int = 10  # actions per clip (frames: clip_steps + 1)
    epsilon: float = 0.3  # the recording policy's share of random actions
    n_ghosts: int = 2
    p_chase: float = 0.6  # a ghost's chance to step towards the agent
    steps: int = 1000  # optimiser steps
    batch_size: int = 16
    lr: float = 5e-3
    adv_weight: float = 0.05  # weight of the adversarial loss (0 = reconstruction only)
    change_weight: float = 5.0  # extra loss weight of pixels that change between true frames
    cell_weight: float = 1.0  # cross-entropy of the agent's true cell (0 = off)
    hidden: int = 16  # ConvLSTM channels
    memory: int = 8  # memory vector per cell
    ablation: bool = False  # also train the simulator without memory (same budget)

    def validate(self) -> None:
        require(self, "train_clips", self.train_clips >= self.batch_size,
                "must be at least batch_size")
        require(self, "test_clips", self.test_clips >= 10, "must be at least 10")
        require(self, "clip_steps", 2 <= self.clip_steps <= 50, "must be in 2..50")
        require(self, "epsilon", 0 <= self.epsilon <= 1, "must be in [0, 1]")
        require(self, "n_ghosts", 0 <= self.n_ghosts <= 4, "must be in 0..4")
        require(self, "p_chase", 0 <= self.p_chase <= 1, "must be in [0, 1]")
        require(self, "lr", 0 < self.lr < 1, "must be in (0, 1)")
        require(self, "adv_weight", self.adv_weight >= 0, "must be >= 0")
        require(self, "change_weight", self.change_weight >= 0, "must be >= 0")
        require(self, "cell_weight", self.cell_weight >= 0, "must be >= 0")
        require(self, "hidden", self.hidden >= 1, "must be >= 1")
        require(self, "memory", self.memory >= 1, "must be >= 1 (ablation=true trains "
                "the simulator without memory beside it)")


def _record(cfg: GameSimConfig, n: int, seed: np.random.SeedSequence,
            params: GameParams) -> Clips:
    """``record_clips``, with a one-line UsageError when the settings make clips impossible."""
    try:
        return record_clips(n, cfg.clip_steps, np.random.default_rng(seed), params,
                            epsilon=cfg.epsilon)
    except RuntimeError:  # the agent is caught in almost every game before the clip ends
        raise UsageError(f"--set n_ghosts={cfg.n_ghosts} p_chase={cfg.p_chase:g} "
                         f"epsilon={cfg.epsilon:g} clip_steps={cfg.clip_steps}: the agent is "
                         "caught in almost every recorded game; use fewer n_ghosts, a lower "
                         "p_chase or epsilon, or a shorter clip_steps") from None


def _held_out(train: Clips, test: Clips) -> tuple[Clips, int]:
    """Drop test clips whose wall layout occurs in training; returns (kept, dropped)."""
    seen = {w.tobytes() for w in train.walls}
    keep = np.array([w.tobytes() not in seen for w in test.walls])
    parts = [getattr(test, f)[keep] for f in ("frames", "actions", "walls", "agent", "food")]
    return Clips(*parts), int((~keep).sum())


@experiment(
    name="game-sim", lecture=11,
    title="GameGAN: a neural simulator of a (simulated) Pac-Man-like game from frames + actions",
    claims=[
        Claim("the simulator predicts held-out games better than holding the last frame it "
              "saw (open-loop rollout MSE / holding-the-first-frame MSE)",
              metric="open_loop_mse_ratio", expected=0.7, compare="<=", quick_expected=0.75),
        Claim("one-step next-frame error beats copying the last frame (MSE ratio)",
              metric="one_step_mse_ratio", expected=0.6, compare="<=", quick_expected=0.9),
        Claim("the agent moves in the direction of the action in >= 90% of the steps where "
              "the game lets it move (open-loop, held-out games; holding a frame: 0%, "
              "a random direction: ~25%)",
              metric="moves_with_action", expected=0.9, compare=">=", quick_expected=0.6),
        Claim("eaten food disappears and stays gone in the simulator's later frames (memory; "
              "holding a frame: 0%)", metric="eaten_stays_gone", expected=0.9, compare=">=",
              quick_expected=0.7),
        Claim("food the agent has not reached stays drawn (so 'gone' is not blanket erasing)",
              metric="uneaten_stays", expected=0.9, compare=">=", quick_expected=0.8),
        Claim("real vs simulated rollouts, per-step error curves (figure)"),
    ],
    facts=[
        Fact("agent stays put when the action walks into a wall (open-loop)",
             metric="stays_when_blocked"),
        Fact("simulated agent's cell equals the true game's cell (open-loop)",
             metric="agent_cell_matches_game"),
        Fact("without the memory module: moves with the action", metric="nomem_moves_with_action"),
        Fact("without the memory module: eaten food stays gone", metric="nomem_eaten_stays_gone"),
        Fact("without the memory module: open-loop MSE ratio", metric="nomem_open_loop_mse_ratio"),
        Fact("CPU seconds of the whole run", metric="cpu_seconds"),
    ],
    quick={"train_clips": 256, "test_clips": 100, "clip_steps": 8, "steps": 200},
)
def game_sim(cfg: GameSimConfig, run: Run) -> dict[str, float]:
    cpu0 = time.process_time()
    params = GameParams(n_ghosts=cfg.n_ghosts, p_chase=cfg.p_chase)
    seeds = np.random.SeedSequence(run.seed).spawn(2)
    train = _record(cfg, cfg.train_clips, seeds[0], params)
    test, dropped = _held_out(train, _record(cfg, cfg.test_clips, seeds[1], params))
    run.print(f"simulated game: {len(train)} training clips, {len(test)} held-out clips "
              f"({dropped} dropped for a wall layout seen in training), {cfg.clip_steps} "
              "actions each")
    x, a = torch.from_numpy(train.frames), torch.from_numpy(train.actions)
    tcfg = TrainConfig(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
                       adv_weight=cfg.adv_weight, change_weight=cfg.change_weight,
                       cell_weight=cfg.cell_weight)
    metrics: dict[str, float] = {}
    results = {}
    for name, mem in (("memory", cfg.memory), ("nomem", 0)):
        if name == "nomem" and not cfg.ablation:
            break
        torch.manual_seed(run.seed)
        model = GameSimulator(SimConfig(size=params.size, pixels=params.pixels,
                                        hidden=cfg.hidden, memory=mem))
        ckpt = run.path(CHECKPOINT_NAME) if name == "memory" else None
        losses = train_simulator(model, x, a, tcfg, run.seed, ckpt, run.progress,
                                 extra={"game": asdict(params)},  # for 'play game-sim'
                                 agent=torch.from_numpy(train.agent))
        results[name] = evaluate(model, test, run.seed)
        run.print(f"{name}: final reconstruction loss {np.mean(losses[-20:]):.2f}; "
                  + ", ".join(f"{k} {v:.3f}" for k, v in results[name].metrics.items()))
    metrics.update(results["memory"].metrics)
    if "nomem" in results:
        for k in ("moves_with_action", "eaten_stays_gone", "uneaten_stays",
                  "open_loop_mse_ratio", "one_step_mse_ratio"):
            metrics[f"nomem_{k}"] = results["nomem"].metrics[k]
    metrics["cpu_seconds"] = time.process_time() - cpu0
    _report(run, metrics, results, test)
    return metrics


def _report(run: Run, m: dict[str, float], results: dict, test: Clips) -> None:
    rows = [["open-loop MSE (simulated held-out games)", f"{m['open_loop_mse']:.4f}",
             f"{m['hold_first_frame_mse']:.4f} (hold first frame)"],
            ["one-step MSE", f"{m['one_step_mse']:.4f}",
             f"{m['copy_last_frame_mse']:.4f} (copy last frame)"],
            ["moves with the action", f"{m['moves_with_action']:.3f}",
             f"{m['hold_moves_with_action']:.3f} (hold)"],
            ["stays when blocked", f"{m['stays_when_blocked']:.3f}", ""],
            ["eaten food stays gone", f"{m['eaten_stays_gone']:.3f}",
             f"{m['hold_eaten_stays_gone']:.3f} (hold)"],
            ["uneaten food stays", f"{m['uneaten_stays']:.3f}",
             f"{m['hold_uneaten_stays']:.3f} (hold)"]]
    header = ["measure (simulated game, held-out clips)", "GameGAN simulator", "baseline"]
    if "nomem" in results:
        n = results["nomem"].metrics
        header.append("without memory")
        keys = ["open_loop_mse", "one_step_mse", "moves_with_action", "stays_when_blocked",
                "eaten_stays_gone", "uneaten_stays"]
        for row, k in zip(rows, keys, strict=True):
            row.append(f"{n[k]:.4f}" if "mse" in k else f"{n[k]:.3f}")
    table = markdown_table(header, rows)
    run.print(table)
    run.save_text("results.md", table + f"\n{len(test)} held-out clips of the simulated game; "
                  f"{m['cpu_seconds']:.0f} CPU seconds.\n")
    run.save_figure(_figure(results["memory"], test, results.get("nomem")),
                    "game-sim-rollouts.png")


def _figure(ev, test: Clips, nomem=None):
    t_max = test.actions.shape[1]
    shown = 2
    fig = plt.figure(figsize=(1.0 * (t_max + 1) + 4.5, 2.1 * shown + 0.4))
    grid = fig.add_gridspec(2 * shown, t_max + 6)
    names = ("up", "down", "left", "right")
    for i in range(shown):
        for t in range(t_max + 1):
            for row, img in ((0, test.frames[i, t]),
                             (1, test.frames[i, 0] if t == 0 else ev.open_loop[i, t - 1])):
                ax = fig.add_subplot(grid[2 * i + row, t])
                ax.imshow(np.clip(img.transpose(1, 2, 0), 0, 1), interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if row == 0 and t > 0:
                    ax.set_title(names[test.actions[i, t - 1]], fontsize=7)
                if t == 0:
                    ax.set_ylabel("game" if row == 0 else "simulator", fontsize=7)
    ax = fig.add_subplot(grid[:, t_max + 2:])
    steps = np.arange(1, t_max + 1)
    for name, curve in ev.step_mse.items():
        ax.plot(steps, curve, marker="o", markersize=3, label=name)
    if nomem is not None:
        ax.plot(steps, nomem.step_mse["simulator (open-loop)"], linestyle="--",
                label="no memory (open-loop)")
    ax.set_xlabel("step after the first frame")
    ax.set_ylabel("MSE per pixel (held-out simulated games)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.suptitle("GameGAN on the simulated grid game: true (top) vs open-loop simulation "
                 "(bottom)", fontsize=9)
    return fig

