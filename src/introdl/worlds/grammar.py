"""A probabilistic scene grammar for driving scenes (procedurally generated, not real data).

Generative model (every number is a field of :class:`GrammarParams`)::

    scene  -> road side(left) side(right)           camera_height ~ U(camera_height),
                                                    camera_pitch  ~ U(camera_pitch) (radians)
    road   -> lane^n       n ~ Categorical(lane_probs) over n = 1, 2, ..., len(lane_probs)
    lane   -> car^k        k ~ Categorical(cars_per_lane_probs) over k = 0, 1, ..., independently
                           per lane
    side   -> slot^3       each slot (a stretch of road side along z):
                           building with p_building, else tree with p_tree, else empty;
                           plus one pedestrian on the side's pavement with p_pedestrian

World frame: x to the right (as seen by the camera), y up, z forward along the road; the
camera stands at (0, camera_height, 0) over the road's centre line, looking along +z, pitched
down by camera_pitch. Lanes are ``lane_width`` (3.5 m) wide, side by side, the road centred
on x = 0; a pavement ``pavement`` (2 m) wide runs along each side.

Cars (attrs x, z = centre of the footprint on the ground, heading = yaw in radians about y,
width, length, height in metres, r, g, b in [0, 1]):

- sizes ~ U(car_width), U(car_length), U(car_height);
- heading ~ N(0, heading_spread), clipped to +-2 heading_spread;
- x = lane centre + N(0, car_jitter), clipped so the rotated footprint stays inside the lane;
- along z, the k cars of a lane occupy k non-overlapping slots of ``slot_length`` metres
  placed uniformly at random in [z_near, z_far] (sorted uniform gaps), each car centred in
  its slot, so cars in a lane never overlap;
- colour ~ Categorical(palette_probs) over ``palette``, times U(0.9, 1.1) brightness.

Pedestrians are 0.5 x 0.5 x U(1.5, 1.9) m boxes on the pavement, buildings are boxes set
back from the pavement with heights U(building_height), trees are a trunk plus a canopy.
:meth:`GrammarParams.prior` is the designer's guess (few lanes, few cars, uniform colours);
:meth:`GrammarParams.real` is the hidden "real" world the Meta-Sim experiments match: it
differs in the car-count rules (more lanes, more cars per lane, more buildings) AND in the
attribute distributions (colour palette weights, camera height and pitch, car sizes,
jitter and heading spread). Both are simulated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from introdl.worlds.scene_graph import Node

LANE_WIDTH = 3.5  # metres
PAVEMENT = 2.0  # metres, each side of the road
SLOTS_PER_SIDE = 3  # building/tree slots along each side of the road
SIDE_Z = (6.0, 36.0)  # z range of the side slots

# Car colours: white, silver, black, red, blue, yellow, green.
PALETTE = ((0.92, 0.92, 0.92), (0.62, 0.63, 0.66), (0.12, 0.12, 0.14), (0.78, 0.12, 0.10),
           (0.12, 0.25, 0.72), (0.92, 0.78, 0.12), (0.15, 0.55, 0.22))


def _norm(p: tuple[float, ...]) -> tuple[float, ...]:
    a = np.asarray(p, dtype=float)
    return tuple(float(x) for x in a / a.sum())


@dataclass(frozen=True)
class GrammarParams:
    """Rule probabilities and attribute distributions of the scene grammar.

    Ranges are (low, high) of uniform draws; probabilities are normalised on use.
    """

    lane_probs: tuple[float, ...] = (0.4, 0.4, 0.2)  # P(n lanes), n = 1, 2, 3
    cars_per_lane_probs: tuple[float, ...] = (0.4, 0.3, 0.15, 0.1, 0.05)  # P(k cars), k = 0..4
    p_pedestrian: float = 0.3  # per road side
    p_building: float = 0.4  # per side slot
    p_tree: float = 0.5  # per side slot without a building
    car_jitter: float = 0.25  # lateral std (m) about the lane centre
    heading_spread: float = 0.05  # heading std (rad)
    palette: tuple[tuple[float, float, float], ...] = PALETTE
    palette_probs: tuple[float, ...] = (1, 1, 1, 1, 1, 1, 1)
    car_width: tuple[float, float] = (1.6, 2.0)
    car_length: tuple[float, float] = (3.8, 4.8)
    car_height: tuple[float, float] = (1.3, 1.6)
    camera_height: tuple[float, float] = (1.4, 1.8)
    camera_pitch: tuple[float, float] = (0.06, 0.12)  # radians, looking down
    building_height: tuple[float, float] = (5.0, 14.0)
    z_near: float = 6.0  # first metre of road where cars may stand
    z_far: float = 32.0  # last metre
    slot_length: float = 6.0  # road length one car takes (longest car + a gap)

    @classmethod
    def prior(cls) -> GrammarParams:
        """The designer's prior: few lanes and few cars, uniform colours."""
        return cls()

    @classmethod
    def real(cls) -> GrammarParams:
        """The hidden "real" world (simulated): busier roads, more buildings, other attributes."""
        return cls(lane_probs=(0.1, 0.3, 0.6),
                   cars_per_lane_probs=(0.05, 0.1, 0.25, 0.35, 0.25),
                   p_pedestrian=0.5, p_building=0.8, p_tree=0.5,
                   car_jitter=0.35, heading_spread=0.08,
                   palette_probs=(4, 3, 3, 1, 1, 0.5, 0.5),
                   car_width=(1.7, 2.0), car_length=(4.0, 5.0), car_height=(1.4, 1.7),
                   camera_height=(1.6, 2.0), camera_pitch=(0.08, 0.14))

    @property
    def max_lanes(self) -> int:
        return len(self.lane_probs)

    @property
    def max_cars_per_lane(self) -> int:
        return len(self.cars_per_lane_probs) - 1

    def check(self) -> None:
        """Raise ValueError when a probability or range is invalid."""
        for name in ("lane_probs", "cars_per_lane_probs", "palette_probs"):
            p = np.asarray(getattr(self, name), dtype=float)
            if p.ndim != 1 or len(p) == 0 or (p < 0).any() or p.sum() <= 0:
                raise ValueError(f"{name} must be non-negative weights with a positive sum")
        if len(self.palette_probs) != len(self.palette):
            raise ValueError("palette_probs needs one weight per palette colour")
        for name in ("p_pedestrian", "p_building", "p_tree"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1]")
        room = self.z_far - self.z_near
        if self.max_cars_per_lane * self.slot_length > room:
            raise ValueError(f"{self.max_cars_per_lane} cars of {self.slot_length} m do not fit"
                             f" in [{self.z_near}, {self.z_far}]")
        if self.slot_length < self.car_length[1] + self.car_width[1] * math.sin(
                2 * self.heading_spread):
            raise ValueError("slot_length must exceed the longest (turned) car")


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _u(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(rng.uniform(r[0], r[1]))


def lane_centres(n_lanes: int) -> np.ndarray:
    """x of each lane's centre for a road of ``n_lanes`` lanes centred on x = 0."""
    return (np.arange(n_lanes) - (n_lanes - 1) / 2) * LANE_WIDTH


def _cars(params: GrammarParams, lane: Node, k: int, rng: np.random.Generator) -> None:
    room = params.z_far - params.z_near - k * params.slot_length
    offsets = np.sort(rng.uniform(0.0, room, size=k))  # free road before each slot
    colours = rng.choice(len(params.palette), size=k, p=_norm(params.palette_probs))
    for i in range(k):
        width, length = _u(rng, params.car_width), _u(rng, params.car_length)
        height = _u(rng, params.car_height)
        s = params.heading_spread
        heading = float(np.clip(rng.normal(0.0, s), -2 * s, 2 * s)) if s > 0 else 0.0
        half_x = 0.5 * (width * math.cos(heading) + length * abs(math.sin(heading)))
        slack = max(0.0, LANE_WIDTH / 2 - half_x)
        dx = float(np.clip(rng.normal(0.0, params.car_jitter), -slack, slack))
        z = params.z_near + offsets[i] + (i + 0.5) * params.slot_length
        shade = float(rng.uniform(0.9, 1.1))
        r, g, b = (min(1.0, c * shade) for c in params.palette[colours[i]])
        lane.add(Node("car", {"x": lane.attrs["x"] + dx, "z": float(z), "heading": heading,
                              "width": width, "length": length, "height": height,
                              "r": r, "g": g, "b": b}))


def _side(params: GrammarParams, side: Node, rng: np.random.Generator, road_half: float) -> None:
    sign = side.attrs["sign"]
    edge = road_half + PAVEMENT  # where buildings and trees may begin
    z0, z1 = SIDE_Z
    step = (z1 - z0) / SLOTS_PER_SIDE
    for i in range(SLOTS_PER_SIDE):
        zs = z0 + i * step
        if rng.random() < params.p_building:
            depth = float(rng.uniform(6.0, 12.0))
            length = float(rng.uniform(0.7, 0.95)) * step
            grey = float(rng.uniform(0.45, 0.8))
            tint = rng.uniform(-0.08, 0.08, size=3)
            side.add(Node("building", {
                "x": sign * (edge + float(rng.uniform(0.5, 2.0)) + depth / 2),
                "z": zs + step / 2, "heading": 0.0, "width": depth, "length": length,
                "height": _u(rng, params.building_height),
                "r": grey + tint[0], "g": grey * 0.95 + tint[1], "b": grey * 0.9 + tint[2]}))
        elif rng.random() < params.p_tree:
            side.add(Node("tree", {
                "x": sign * (edge + float(rng.uniform(0.5, 2.5))),
                "z": zs + float(rng.uniform(0.2, 0.8)) * step, "heading": 0.0,
                "width": float(rng.uniform(1.8, 3.0)), "length": 0.0,
                "height": float(rng.uniform(4.0, 7.0)),
                "r": 0.15, "g": float(rng.uniform(0.4, 0.6)), "b": 0.15}))
    if rng.random() < params.p_pedestrian:
        c = rng.uniform(0.1, 0.9, size=3)
        side.add(Node("pedestrian", {
            "x": sign * (road_half + float(rng.uniform(0.4, PAVEMENT - 0.4))),
            "z": float(rng.uniform(params.z_near, params.z_far)), "heading": 0.0,
            "width": 0.5, "length": 0.5, "height": float(rng.uniform(1.5, 1.9)),
            "r": float(c[0]), "g": float(c[1]), "b": float(c[2])}))


def sample_scene(params: GrammarParams, rng: int | np.random.Generator) -> Node:
    """One derivation of the grammar: a scene graph (same seed -> same scene)."""
    rng = _rng(rng)
    scene = Node("scene", {"camera_height": _u(rng, params.camera_height),
                           "camera_pitch": _u(rng, params.camera_pitch)})
    n_lanes = 1 + int(rng.choice(params.max_lanes, p=_norm(params.lane_probs)))
    road_half = n_lanes * LANE_WIDTH / 2
    road = scene.add(Node("road", {"n_lanes": float(n_lanes), "width": 2 * road_half}))
    cpl = _norm(params.cars_per_lane_probs)
    for i, x in enumerate(lane_centres(n_lanes)):
        lane = road.add(Node("lane", {"index": float(i), "x": float(x), "width": LANE_WIDTH}))
        _cars(params, lane, int(rng.choice(len(cpl), p=cpl)), rng)
    for sign in (-1.0, 1.0):
        _side(params, scene.add(Node("side", {"sign": sign})), rng, road_half)
    return scene


def sample_scenes(params: GrammarParams, n: int, seed: int) -> list[Node]:
    """``n`` scenes from one seeded generator."""
    rng = np.random.default_rng(seed)
    return [sample_scene(params, rng) for _ in range(n)]


@dataclass(frozen=True)
class Structure:
    """The grammar decisions a scene graph records (what Meta-Sim2 learns)."""

    n_lanes: int
    cars_per_lane: tuple[int, ...]
    buildings: int  # side slots holding a building
    slots: int  # side slots in the scene (SLOTS_PER_SIDE per side)

    @property
    def n_cars(self) -> int:
        return sum(self.cars_per_lane)


def structure(scene: Node) -> Structure:
    """Read the rule choices (lanes, cars per lane, buildings) back from a scene graph."""
    lanes = scene.find("lane")
    return Structure(n_lanes=len(lanes),
                     cars_per_lane=tuple(len(lane.find("car")) for lane in lanes),
                     buildings=len(scene.find("building")),
                     slots=SLOTS_PER_SIDE * len(scene.find("side")))
