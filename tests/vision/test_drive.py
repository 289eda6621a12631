"""End-to-end driving (Lecture 3): MDN loss parity, the simulator and expert, a quick run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from rich.console import Console
from torch.distributions import Categorical, MixtureSameFamily, Normal

from introdl.vision.drive import sim
from introdl.vision.drive.mdn import (
    MDNHead,
    MDNLoss,
    count_modes,
    mixture_density,
    most_likely_mean,
)
from introdl.vision.drive.model import DrivingNet, pack
from introdl.vision.drive.rollout import collect_demos, max_steps


def _mixture(b=5, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, k, generator=g), torch.randn(b, k, generator=g),
            0.5 * torch.randn(b, k, generator=g)), torch.randn(b, generator=g)


def test_mdn_loss_matches_the_formula_in_its_docstring():
    (logits, means, log_stds), y = _mixture()
    expected = 0.0
    for i in range(len(y)):  # -log sum_k pi_k N(y; mu_k, sigma_k^2), written out
        pi = torch.exp(logits[i]) / torch.exp(logits[i]).sum()
        s = torch.exp(log_stds[i])
        dens = pi * torch.exp(-((y[i] - means[i]) ** 2) / (2 * s**2)) / (s * math.sqrt(2 * math.pi))
        expected += -torch.log(dens.sum()) / len(y)
    torch.testing.assert_close(MDNLoss()((logits, means, log_stds), y), expected)


def test_mdn_loss_matches_torch_mixture_same_family():
    (logits, means, log_stds), y = _mixture(b=8, k=4, seed=1)
    dist = MixtureSameFamily(Categorical(logits=logits), Normal(means, log_stds.exp()))
    torch.testing.assert_close(MDNLoss()((logits, means, log_stds), y), -dist.log_prob(y).mean())
    grid = torch.linspace(-3, 3, 7)
    torch.testing.assert_close(mixture_density((logits, means, log_stds), grid),
                               dist.log_prob(grid[:, None]).exp().T)


def test_mode_counting_and_the_action_taken():
    logits = torch.tensor([[0.0, 0.0], [0.0, -9.0]])
    means = torch.tensor([[-0.5, 0.5], [0.3, -0.5]])
    log_stds = torch.full((2, 2), math.log(0.1))
    dens = mixture_density((logits, means, log_stds), torch.linspace(-1.5, 1.5, 301))
    assert count_modes(dens).tolist() == [2, 1]
    assert most_likely_mean((logits, means, log_stds))[1] == pytest.approx(0.3)
    head = MDNHead(6, k=4)
    out = head(torch.randn(2, 6))
    assert [o.shape for o in out] == [(2, 4)] * 3 and (out[2] >= head.min_log_std).all()


def test_simulator_is_deterministic_given_the_seed():
    a = collect_demos(2, seed=5)
    b = collect_demos(2, seed=5)
    for field in ("camera", "route", "steer", "to_fork"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.camera.shape[1:] == (32, 64) and a.route.shape[1:] == (16, 16)
    assert not np.array_equal(a.camera, collect_demos(2, seed=6).camera)


@pytest.mark.parametrize("side", [1, -1])
def test_expert_follows_the_route_to_the_goal_on_either_branch(side):
    rng = np.random.default_rng(side + 10)
    for _ in range(8):
        road = sim.make_road(rng, side=side)
        x, y, th = road.start
        for _t in range(max_steps(road)):
            x, y, th = sim.step(x, y, th, sim.expert_steer(road, x, y, th))
            state = sim.status(road, x, y)
            if state != "driving":
                break
        assert state == "goal"
        # it took the route's branch: the goal side of the fork
        fork_heading = road.route[road.fork_index] - road.route[road.fork_index - 8]
        to_goal = road.route[-1] - road.fork
        cross = fork_heading[0] * to_goal[1] - fork_heading[1] * to_goal[0]  # > 0: goal on the left
        assert np.sign(cross) == side


def test_same_seed_different_side_gives_the_same_road_and_camera():
    left = sim.make_road(np.random.default_rng(3), side=1)
    right = sim.make_road(np.random.default_rng(3), side=-1)
    np.testing.assert_array_equal(left.on_road, right.on_road)
    assert not np.array_equal(left.route_map, right.route_map)


@pytest.mark.parametrize(("use_route", "head"), [(True, "mdn"), (False, "mse")])
def test_driving_net_shapes(use_route, head):
    x = pack(torch.rand(3, 32, 64), torch.rand(3, 16, 16))
    out = DrivingNet(use_route, head, k=2)(x)
    if head == "mdn":
        assert [o.shape for o in out] == [(3, 2)] * 3
    else:
        assert out.shape == (3,)


def test_camera_only_net_ignores_the_route():
    torch.manual_seed(0)
    net = DrivingNet(use_route=False, head="mse")
    cam = torch.rand(2, 32, 64)
    torch.testing.assert_close(net(pack(cam, torch.zeros(2, 16, 16))),
                               net(pack(cam, torch.ones(2, 16, 16))))


def test_quick_driving_run_writes_metrics_and_figures(tmp_path):
    from introdl.experiment import get
    from introdl.runner import run_experiment

    r = run_experiment(get("driving"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["train_episodes=6", "val_episodes=3", "eval_episodes=3",
                             "epochs=1", "n_fork=2"], console=Console(quiet=True), progress=False)
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    for name in ("mdn", "mse", "mdn_camera", "mse_route"):
        assert 0.0 <= m[f"success_{name}"] <= 1.0
    assert 0.0 <= m["fork_bimodal"] <= 1.0 and 0.0 <= m["fork_route_correct"] <= 1.0
    assert sorted(r.figures) == ["fork_density.png", "traces.png"]
