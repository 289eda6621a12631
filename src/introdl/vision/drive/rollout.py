"""Driving episodes: expert demonstrations for training, closed-loop runs for evaluation.

Demonstrations follow DART (Laskey et al. 2017): the car executes the expert's steering
plus Gaussian noise, but each frame is labelled with the expert's *clean* steering, so
the data show how to recover from the small drifts a learned policy will make.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from introdl.vision.drive import sim

# policy(cameras (B, 32, 64), route maps (B, 16, 16)) -> steering (B,)
Policy = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Demos:
    camera: np.ndarray  # (N, 32, 64)
    route: np.ndarray  # (N, 16, 16)
    steer: np.ndarray  # (N,) expert steering in [-1, 1]
    side: np.ndarray  # (N,) the route's branch, +1 left / -1 right
    to_fork: np.ndarray  # (N,) distance along the road to the fork (negative: past it)


def max_steps(road: sim.Road) -> int:
    return int(1.5 * len(road.route) * 0.25) + 10


def collect_demos(n_episodes: int, seed: int, noise: float = 0.25) -> Demos:
    """Expert drives ``n_episodes`` roads with steering noise ``noise``; clean labels."""
    rng = np.random.default_rng(seed)
    cols: dict[str, list] = {k: [] for k in ("camera", "route", "steer", "side", "to_fork")}
    for _ in range(n_episodes):
        road = sim.make_road(rng)
        x, y, th = road.start
        for _t in range(max_steps(road)):
            a = sim.expert_steer(road, x, y, th)
            k = int(np.argmin(np.sum((road.route - [x, y]) ** 2, axis=1)))
            cols["camera"].append(sim.render_camera(road, x, y, th, rng))
            cols["route"].append(sim.render_route(road, x, y, th))
            cols["steer"].append(a)
            cols["side"].append(road.side)
            cols["to_fork"].append((road.fork_index - k) * 0.25)
            x, y, th = sim.step(x, y, th, a + rng.normal(0, noise))
            if sim.status(road, x, y) != "driving":
                break
    return Demos(*(np.asarray(cols[k], np.float32) for k in cols))


@dataclass
class Outcome:
    status: list[str] = field(default_factory=list)  # "goal" | "off" | "timeout" per road
    traces: list[np.ndarray] = field(default_factory=list)  # (T, 2) positions per road

    @property
    def success_rate(self) -> float:
        return float(np.mean([s == "goal" for s in self.status]))


def closed_loop(policy: Policy, roads: list[sim.Road], seed: int) -> Outcome:
    """Drive every road with ``policy`` (all roads stepped together, one batch per step)."""
    rng = np.random.default_rng(seed)
    poses = [list(r.start) for r in roads]
    traces = [[p[:2]] for p in poses]
    status = ["driving"] * len(roads)
    for t in range(max(max_steps(r) for r in roads)):
        live = [i for i, s in enumerate(status) if s == "driving"]
        if not live:
            break
        cam = np.stack([sim.render_camera(roads[i], *poses[i], rng) for i in live])
        rmap = np.stack([sim.render_route(roads[i], *poses[i]) for i in live])
        steer = policy(cam, rmap)
        for i, a in zip(live, steer, strict=True):
            poses[i] = list(sim.step(*poses[i], float(a)))
            traces[i].append(poses[i][:2])
            status[i] = sim.status(roads[i], *poses[i][:2])
            if status[i] == "driving" and t + 1 >= max_steps(roads[i]):
                status[i] = "timeout"
    return Outcome(status, [np.array(tr) for tr in traces])


def fork_views(seed: int) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, float]]:
    """At one fork point: the camera image, and per route side the route map and expert steer."""
    roads = {s: sim.make_road(np.random.default_rng(seed), side=s) for s in (1, -1)}
    r = roads[1]
    i = r.fork_index
    d = r.route[i] - r.route[i - 8]
    x, y, th = float(r.route[i, 0]), float(r.route[i, 1]), float(np.arctan2(d[1], d[0]))
    camera = sim.render_camera(r, x, y, th, np.random.default_rng(seed))
    maps = {s: sim.render_route(roads[s], x, y, th) for s in roads}
    expert = {s: sim.expert_steer(roads[s], x, y, th) for s in roads}
    return camera, maps, expert
