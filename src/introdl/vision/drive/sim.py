"""A tiny driving world: a road that forks, a forward camera, a route map, and an expert.

Each episode draws a road in a 128 x 128 world (units ~ metres): a gently curving trunk
that splits into a left and a right branch. The route (trunk + one branch, chosen at
random) ends at the goal. The car moves 1 unit per step; steering ``a`` in [-1, 1] sets
the path curvature ``kappa = a * kappa_max`` (positive = left)::

    theta <- theta + v * kappa;   p <- p + v * (cos theta, sin theta)

Observations, both NumPy float32 in ~0..1:

- camera (32, 64): a pinhole view of the ground plane — grass texture, grey road, white
  edge lines and a dashed centre line, distance fog, per-episode lighting, pixel noise;
- route map (16, 16): a coarse top-down map around the car, heading up, showing the
  roads (0.35) and the planned route (1.0) — what a navigation app shows.

The expert is pure pursuit on the route: aim at the route point ``L`` units ahead, at
angle ``alpha`` in the car's frame, and steer the arc through it, ``kappa = 2 sin(alpha)/L``.
At the fork the camera alone cannot tell which branch the route takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

WORLD = 128.0  # world side in units
RES = 0.5  # units per raster cell
HALF_WIDTH = 3.0  # road half width
KAPPA_MAX = 0.12  # curvature at full steering
LOOKAHEAD = 6.0  # expert's pure-pursuit distance
CAM_H, CAM_W, HORIZON, FOCAL, CAM_HEIGHT, FAR = 32, 64, 10, 32.0, 1.5, 60.0
MAP_SIZE, MAP_CELL = 16, 2.0  # route map: cells per side, units per cell


def _arc(p: np.ndarray, theta: float, kappas: list[tuple[float, float]],
         ds: float = 0.25) -> tuple[np.ndarray, float]:
    """Integrate (length, curvature) pieces from (p, theta): points (n, 2), end heading."""
    pts = []
    for length, k in kappas:
        for _ in range(int(length / ds)):
            theta += k * ds
            p = p + ds * np.array([np.cos(theta), np.sin(theta)])
            pts.append(p)
    return np.array(pts), theta


@dataclass
class Road:
    """One episode's world: rasters, route polyline, fork and goal."""

    on_road: np.ndarray  # (G, G) bool
    texture: np.ndarray  # (G, G) float: the ground's brightness before lighting
    route_map: np.ndarray  # (G, G) float: 0.35 road, 1.0 route, 0 elsewhere
    route: np.ndarray  # (n, 2) route centre line, 0.25 units apart
    fork: np.ndarray  # (2,) fork point
    fork_index: int  # index of the fork in ``route``
    side: int  # +1 route takes the left branch, -1 the right
    start: tuple[float, float, float]  # x, y, heading
    brightness: float  # lighting factor of this episode


def make_road(rng: np.random.Generator, side: int | None = None) -> Road:
    """A random forked road; ``side`` fixes the route's branch (+1 left, -1 right)."""
    drawn = int(rng.choice([-1, 1]))  # drawn even when given, so the geometry is the same
    side = drawn if side is None else side
    start = np.array([WORLD / 2 + rng.uniform(-8, 8), 6.0])
    theta0 = np.pi / 2 + rng.uniform(-0.15, 0.15)
    trunk, th = _arc(start, theta0, [(rng.uniform(30, 42), rng.uniform(-0.012, 0.012))])
    branches = {}
    for s in (1, -1):  # turn away from the trunk, then run on gently
        turn = (rng.uniform(14, 20), s * rng.uniform(0.035, 0.05))
        on = (rng.uniform(22, 30), s * rng.uniform(-0.01, 0.02))
        branches[s], _ = _arc(trunk[-1], th, [turn, on])
    G = int(WORLD / RES)
    centre = np.zeros((G, G), bool)
    arclen = np.zeros((G, G), np.float32)
    route_centre = np.zeros((G, G), bool)
    for pts, on_route in ((trunk, True), (branches[1], side == 1), (branches[-1], side == -1)):
        ij = np.clip((pts / RES).astype(int), 0, G - 1)
        s0 = len(trunk) * 0.25 if pts is not trunk else 0.0
        centre[ij[:, 1], ij[:, 0]] = True
        arclen[ij[:, 1], ij[:, 0]] = s0 + 0.25 * np.arange(len(pts))
        if on_route:
            route_centre[ij[:, 1], ij[:, 0]] = True
    dist, (ni, nj) = ndimage.distance_transform_edt(~centre, return_indices=True)
    dist = dist * RES
    on_road = dist < HALF_WIDTH
    tex = 0.22 + 0.06 * ndimage.gaussian_filter(rng.standard_normal((G, G)), 1.5) * 4
    tex = np.where(on_road, 0.45, tex)
    edge = on_road & (dist > HALF_WIDTH - 0.5)
    dashes = (dist < 0.3) & (arclen[ni, nj] % 4.0 < 2.0)
    tex = np.where(edge | dashes, 0.9, tex).astype(np.float32)
    route_dist = ndimage.distance_transform_edt(~route_centre) * RES
    rmap = np.where(route_dist < 1.5, 1.0, np.where(on_road, 0.35, 0.0)).astype(np.float32)
    route = np.concatenate([trunk, branches[side]])
    return Road(on_road, tex, rmap, route, trunk[-1], len(trunk) - 1, side,
                (float(start[0]), float(start[1]), float(theta0)), float(rng.uniform(0.6, 1.3)))


def _sample(grid: np.ndarray, x: np.ndarray, y: np.ndarray, fill: float) -> np.ndarray:
    """Nearest-cell lookup of world points; outside the world reads ``fill``."""
    G = grid.shape[0]
    i, j = (y / RES).astype(int), (x / RES).astype(int)
    inside = (i >= 0) & (i < G) & (j >= 0) & (j < G)
    out = np.full(x.shape, fill, np.float32)
    out[inside] = grid[i[inside], j[inside]]
    return out


# Camera rays, fixed: each ground pixel's forward distance d and lateral offset l.
_v = np.arange(HORIZON, CAM_H)[:, None] + 0.5 - HORIZON  # rows below the horizon
_D = np.broadcast_to(CAM_HEIGHT * FOCAL / _v, (CAM_H - HORIZON, CAM_W))  # (22, 64)
_L = (np.arange(CAM_W)[None, :] + 0.5 - CAM_W / 2) * _D / FOCAL
# Route map cells: lateral -20..20, forward -6..26 units, heading up (row 0 = ahead).
_mf = -6 + MAP_CELL * (MAP_SIZE - 1 - np.arange(MAP_SIZE) + 0.5)[:, None] * np.ones(MAP_SIZE)
_ml = (np.arange(MAP_SIZE)[None, :] + 0.5 - MAP_SIZE / 2) * MAP_CELL * np.ones((MAP_SIZE, 1))


def _to_world(x: float, y: float, th: float, fwd: np.ndarray, right: np.ndarray):
    return (x + fwd * np.cos(th) + right * np.sin(th), y + fwd * np.sin(th) - right * np.cos(th))


def render_camera(road: Road, x: float, y: float, th: float,
                  rng: np.random.Generator, noise: float = 0.03) -> np.ndarray:
    """The forward camera image (32, 64) at pose (x, y, heading th)."""
    wx, wy = _to_world(x, y, th, _D, _L)
    ground = _sample(road.texture, wx, wy, fill=0.22)
    fog = np.clip(_D / FAR, 0, 1)
    ground = (1 - fog) * ground + fog * 0.7
    sky = np.full((HORIZON, CAM_W), 0.8, np.float32)
    img = np.concatenate([sky, ground]) * road.brightness
    return np.clip(img + rng.normal(0, noise, img.shape), 0, 1).astype(np.float32)


def render_route(road: Road, x: float, y: float, th: float) -> np.ndarray:
    """The egocentric route map (16, 16) at pose (x, y, heading th)."""
    wx, wy = _to_world(x, y, th, _mf, _ml)
    return _sample(road.route_map, wx, wy, fill=0.0)


def expert_steer(road: Road, x: float, y: float, th: float) -> float:
    """Pure pursuit on the route: steering in [-1, 1]."""
    k = int(np.argmin(np.sum((road.route - [x, y]) ** 2, axis=1)))
    target = road.route[min(k + int(LOOKAHEAD / 0.25), len(road.route) - 1)]
    dx, dy = target[0] - x, target[1] - y
    ahead = dx * np.cos(th) + dy * np.sin(th)
    left = -dx * np.sin(th) + dy * np.cos(th)
    alpha = np.arctan2(left, ahead)
    return float(np.clip(2 * np.sin(alpha) / LOOKAHEAD / KAPPA_MAX, -1, 1))


def step(x: float, y: float, th: float, steer: float) -> tuple[float, float, float]:
    """Move 1 unit along the arc of curvature ``steer * KAPPA_MAX``."""
    th = th + KAPPA_MAX * float(np.clip(steer, -1, 1))
    return x + np.cos(th), y + np.sin(th), th


def status(road: Road, x: float, y: float) -> str:
    """"goal" within 3 units of the route's end, "off" off the road, else "driving"."""
    if np.hypot(*(road.route[-1] - [x, y])) < 3.0:
        return "goal"
    G = road.on_road.shape[0]
    i, j = int(y / RES), int(x / RES)
    if not (0 <= i < G and 0 <= j < G) or not road.on_road[i, j]:
        return "off"
    return "driving"
