"""Lecture 3: end-to-end driving with a probabilistic (MDN) steering output.

Design of the comparison. Every model sees the forward camera; at a fork the camera
shows both branches, so from the camera alone the expert's steering is bimodal (left
for routes that go left, right for the others). Four nets with the same CNNs train on
the same expert demonstrations:

- ``mdn`` — camera + route map, MDN head (the lecture's model); drives by the mean of
  its heaviest component;
- ``mse`` — camera only, one output, squared error: the baseline the claim is about.
  Its least-squares answer at the fork point is the mean of the two branches; it has
  no way to know the route, so whatever branch it drifts into is a coin toss;
- ``mdn_camera`` — camera only, MDN head: shows that the mixture keeps both modes
  (``fork_bimodal``) where the MSE output averages them;
- ``mse_route`` — camera + route, one output, reported for honesty: once the route
  removes the ambiguity, a single output can drive too.

Closed-loop success = the share of unseen roads on which the car reaches the goal
without leaving the road. Bimodality and branch choice are measured on views from the
fork point of unseen roads (car on the centre line, trunk heading): the one place where
the camera cannot tell the branches apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import TensorDataset

from introdl import io
from introdl.config import require
from introdl.engine import TrainConfig, fit
from introdl.experiment import Claim, experiment
from introdl.run import Run
from introdl.vision.drive import sim
from introdl.vision.drive.mdn import MDNLoss, mixture_density, mode_positions, most_likely_mean
from introdl.vision.drive.model import DrivingNet, pack
from introdl.vision.drive.plots import plot_fork, plot_traces
from introdl.vision.drive.rollout import Demos, closed_loop, collect_demos, fork_views

MODELS = {"mdn": (True, "mdn"), "mse": (False, "mse"), "mdn_camera": (False, "mdn"),
          "mse_route": (True, "mse")}


@dataclass
class DrivingConfig:
    train_episodes: int = 200  # expert-driven roads for training
    val_episodes: int = 40  # expert-driven roads for validation (early stopping)
    eval_episodes: int = 100  # unseen roads driven closed-loop by each model
    noise: float = 0.25  # std of the steering noise injected while demonstrating
    k: int = 3  # mixture components
    epochs: int = 15  # training epochs per model
    lr: float = 2e-3  # Adam learning rate
    n_fork: int = 50  # unseen roads whose fork-point view measures bimodality
    mode_tol: float = 0.4  # a peak within this share of the two branches' steering gap from
    # a branch's expert steering is that branch's mode (at 0.5 their mean would count)

    def validate(self) -> None:
        for key in ("train_episodes", "val_episodes", "eval_episodes", "n_fork", "k"):
            require(self, key, getattr(self, key) >= 1, "must be at least 1")
        require(self, "noise", self.noise >= 0, "must be 0 or more")
        require(self, "mode_tol", 0 < self.mode_tol < 0.5, "must be above 0 and below 0.5 "
                "(at 0.5 a peak at the two branches' mean would count for both)")


def _dataset(d: Demos) -> TensorDataset:
    return TensorDataset(pack(torch.from_numpy(d.camera), torch.from_numpy(d.route)),
                         torch.from_numpy(d.steer))


def _policy(model: DrivingNet, device: torch.device):
    @torch.no_grad()
    def act(camera: np.ndarray, route: np.ndarray) -> np.ndarray:
        out = model(pack(torch.from_numpy(camera), torch.from_numpy(route)).to(device))
        return (most_likely_mean(out) if model.head_kind == "mdn" else out).cpu().numpy()
    return act


@experiment(
    name="driving", lecture=3,
    title="end-to-end driving: camera + route map -> mixture density over steering",
    claims=[
        Claim("the route-conditioned MDN reaches the goal more often than a camera-only "
              "MSE regressor (success-rate gain)",
              metric="success_rate_gain", expected=0.0, compare=">"),
        Claim("at a fork the MDN (camera only) puts a mode on each branch: share of "
              "fork-point views with a density peak near each branch's expert steering "
              "(closer than 0.4 of the gap between the two)", metric="fork_bimodal",
              expected=0.75, compare=">=", full_only=True),
        Claim("given the route, the MDN's heaviest mode turns onto the route's branch",
              metric="fork_route_correct", expected=0.9, compare=">="),
        Claim("steering density at a fork and top-down episode traces"),
    ],
    quick={"train_episodes": 30, "val_episodes": 8, "eval_episodes": 12, "epochs": 3,
           "n_fork": 10},
)
def driving(cfg: DrivingConfig, run: Run) -> dict[str, float]:
    train = collect_demos(cfg.train_episodes, seed=run.seed, noise=cfg.noise)
    val = collect_demos(cfg.val_episodes, seed=run.seed + 1, noise=cfg.noise)
    run.print(f"demonstrations: {len(train.steer)} train, {len(val.steer)} val frames")
    models: dict[str, DrivingNet] = {}
    metrics: dict[str, float] = {}
    for name, (use_route, head) in MODELS.items():
        torch.manual_seed(run.seed)
        model = DrivingNet(use_route, head, cfg.k)
        loss = MDNLoss() if head == "mdn" else torch.nn.MSELoss()
        hist = fit(model, loss, _dataset(train), TrainConfig(epochs=cfg.epochs, batch_size=128,
                   lr=cfg.lr, seed=run.seed, patience=4), val_set=_dataset(val),
                   device=run.device, progress=run.progress, desc=name,
                   log=lambda _n=name, **r: run.log(model=_n, **r))
        metrics[f"val_loss_{name}"] = hist.best_val_loss
        models[name] = model.eval()
        with io.atomic_open(run.path(f"{name}.pt"), "wb") as f:
            torch.save(model.state_dict(), f)

    # -- the fork: on each of n_fork unseen roads, the view from the fork point ---------
    # There the camera cannot tell the branches apart; the route map can.
    # Bimodal means a peak near *each* branch's expert steering, not just two peaks.
    both, n_peaks, correct = [], [], []
    grid = torch.linspace(-1.5, 1.5, 601, device=run.device)
    with torch.no_grad():
        for i in range(cfg.n_fork):
            camera, maps, expert = fork_views(seed=run.seed + 1000 + i)
            cam = torch.from_numpy(camera)[None]
            x = {s: pack(cam, torch.from_numpy(maps[s])[None]).to(run.device) for s in maps}
            peaks = mode_positions(mixture_density(models["mdn_camera"](x[1]), grid), grid)[0]
            n_peaks.append(len(peaks))
            tol = cfg.mode_tol * abs(expert[1] - expert[-1])
            both.append(all(any(abs(p - expert[s]) < tol for p in peaks) for s in expert))
            correct += [float(most_likely_mean(models["mdn"](x[s]))[0]) * s > 0 for s in x]
    metrics["fork_bimodal"] = float(np.mean(both))
    metrics["fork_two_peaks"] = float(np.mean([n >= 2 for n in n_peaks]))
    metrics["fork_route_correct"] = float(np.mean(correct))

    # -- closed loop on unseen roads -------------------------------------------------------
    rng = np.random.default_rng(run.seed + 2)
    roads = [sim.make_road(rng) for _ in range(cfg.eval_episodes)]
    outcomes = {name: closed_loop(_policy(m, run.device), roads, seed=run.seed + 3)
                for name, m in models.items()}
    for name, o in outcomes.items():
        metrics[f"success_{name}"] = o.success_rate
        metrics[f"off_road_{name}"] = float(np.mean([s == "off" for s in o.status]))
        run.print(f"{name}: success {o.success_rate:.0%}")
    metrics["success_rate_gain"] = metrics["success_mdn"] - metrics["success_mse"]

    run.save_figure(plot_fork(models, seed=run.seed, device=run.device), "fork_density.png")
    run.save_figure(plot_traces(roads[:3], outcomes), "traces.png")
    return metrics
