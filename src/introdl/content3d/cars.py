"""A procedurally generated object category: parametric toy cars (boxes and wheels).

Generative model (every parameter drawn independently and uniformly from the range in
:class:`CarPrior`, from one seed): a car is the union of

- a **body**: an axis-aligned box of length ``length`` (along x, the car's forward axis),
  width ``width`` (along z) and height ``body_height``, whose bottom sits at the ground
  clearance ``0.8 * wheel_radius``;
- a **cabin**: a box on top of the body, ``cabin_fraction * length`` long, ``0.85 * width``
  wide, ``cabin_height`` high, its centre shifted along x by ``cabin_shift * length``
  (negative = towards the back, so sedans, hatchbacks and vans all occur);
- four **wheels**: cylinders of radius ``wheel_radius`` and width ``0.22 * width``, axis
  along z, standing on the ground (y = 0), at x = +-(length / 2 - 1.15 * wheel_radius),
  inset so their outer face is flush with the body's side.

The whole car is then translated so that its bounding box is centred at the origin and
scaled by ``scale`` (toy cars come in several sizes); the ranges keep every car inside the
unit sphere, so inside [-1, 1]^3. Vertex colours: the body
in a colour of hue ~ U(0, 1), saturation ~ ``saturation``, value ~ ``value``; the cabin a light
grey-blue "glass" (0.75, 0.8, 0.9); the wheels near-black (0.12, 0.12, 0.12).

The mesh is the concatenation of the parts' closed meshes (trimesh's ``box`` and
``cylinder``), so parts overlap; the exact solid is given analytically by :func:`occupancy`
(a point is inside the car when it is inside any part), which is what 3D IoU is measured
against. Nothing here is a real car: these are procedurally generated shapes.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import numpy as np
import torch
import trimesh
from torch import Tensor

GLASS = (0.75, 0.8, 0.9)
TYRE = (0.12, 0.12, 0.12)
WHEEL_SECTIONS = 12


@dataclass(frozen=True)
class CarPrior:
    """Uniform ranges (low, high) of each car parameter (see the module docstring)."""

    length: tuple[float, float] = (1.0, 1.65)
    width: tuple[float, float] = (0.45, 0.7)
    body_height: tuple[float, float] = (0.15, 0.4)
    cabin_height: tuple[float, float] = (0.08, 0.33)
    cabin_fraction: tuple[float, float] = (0.35, 0.8)
    cabin_shift: tuple[float, float] = (-0.2, 0.1)
    wheel_radius: tuple[float, float] = (0.11, 0.17)
    saturation: tuple[float, float] = (0.5, 0.9)
    value: tuple[float, float] = (0.6, 0.95)
    scale: tuple[float, float] = (0.65, 1.0)

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            lo, hi = getattr(self, name)
            if not lo <= hi:
                raise ValueError(f"CarPrior.{name}: low {lo} > high {hi}")


@dataclass
class Box:
    """An axis-aligned box part: centre (3,) and full extents (3,)."""

    centre: np.ndarray
    extents: np.ndarray


@dataclass
class Wheel:
    """A cylinder part with its axis along z: centre (3,), radius and width (along z)."""

    centre: np.ndarray
    radius: float
    width: float


@dataclass
class Car:
    """One generated car: its mesh (float32 verts, int64 faces), vertex colours and parts."""

    verts: Tensor  # (V, 3)
    faces: Tensor  # (F, 3)
    colors: Tensor  # (V, 3) in [0, 1]
    params: dict[str, float]
    parts: list[Box | Wheel] = field(default_factory=list)


def _uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(*lo_hi))


def sample_params(rng: np.random.Generator | int,
                  prior: CarPrior | None = None) -> dict[str, float]:
    """Draw one car's parameters (in a fixed order, so a seed fixes the car)."""
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    prior = prior or CarPrior()
    names = ("length", "width", "body_height", "cabin_height", "cabin_fraction",
             "cabin_shift", "wheel_radius", "saturation", "value")
    p = {n: _uniform(rng, getattr(prior, n)) for n in names}
    p["hue"] = float(rng.uniform(0.0, 1.0))
    p["scale"] = _uniform(rng, prior.scale)
    return p


def _parts(p: dict[str, float]) -> list[Box | Wheel]:
    r, length, width = p["wheel_radius"], p["length"], p["width"]
    bottom = 0.8 * r
    body = Box(np.array([0.0, bottom + p["body_height"] / 2, 0.0]),
               np.array([length, p["body_height"], width]))
    cabin_len = p["cabin_fraction"] * length
    cabin_x = float(np.clip(p["cabin_shift"] * length, -(length - cabin_len) / 2,
                            (length - cabin_len) / 2))  # the cabin stays on the body
    cabin = Box(np.array([cabin_x, bottom + p["body_height"] + p["cabin_height"] / 2, 0.0]),
                np.array([cabin_len, p["cabin_height"], 0.85 * width]))
    wheel_w = 0.22 * width
    wheels = [Wheel(np.array([sx * (length / 2 - 1.15 * r), r, sz * (width - wheel_w) / 2]),
                    r, wheel_w) for sx in (-1, 1) for sz in (-1, 1)]
    parts: list[Box | Wheel] = [body, cabin, *wheels]
    top = bottom + p["body_height"] + p["cabin_height"]
    shift = np.array([0.0, -top / 2, 0.0])  # x and z are already centred
    s = p["scale"]
    for part in parts:
        part.centre = (part.centre + shift) * s
        if isinstance(part, Box):
            part.extents = part.extents * s
        else:
            part.radius, part.width = part.radius * s, part.width * s
    return parts


def _part_mesh(part: Box | Wheel) -> trimesh.Trimesh:
    if isinstance(part, Box):
        mesh = trimesh.creation.box(extents=part.extents)
    else:  # trimesh's cylinder has its axis along z already
        mesh = trimesh.creation.cylinder(radius=part.radius, height=part.width,
                                         sections=WHEEL_SECTIONS)
    mesh.apply_translation(part.centre)
    return mesh


def make_car(rng: np.random.Generator | int, prior: CarPrior | None = None) -> Car:
    """One procedurally generated car; the same seed gives the same car."""
    p = sample_params(rng, prior)
    parts = _parts(p)
    body_rgb = colorsys.hsv_to_rgb(p["hue"], p["saturation"], p["value"])
    verts, faces, colors, offset = [], [], [], 0
    for i, part in enumerate(parts):
        mesh = _part_mesh(part)
        rgb = body_rgb if i == 0 else GLASS if i == 1 else TYRE
        verts.append(np.asarray(mesh.vertices))
        faces.append(np.asarray(mesh.faces) + offset)
        colors.append(np.tile(rgb, (len(mesh.vertices), 1)))
        offset += len(mesh.vertices)
    return Car(torch.tensor(np.concatenate(verts), dtype=torch.float32),
               torch.tensor(np.concatenate(faces), dtype=torch.int64),
               torch.tensor(np.concatenate(colors), dtype=torch.float32), p, parts)


def make_cars(n: int, seed: int, prior: CarPrior | None = None) -> list[Car]:
    """``n`` cars; car ``i`` comes from seed ``(seed, i)``, so a prefix of a set is stable."""
    return [make_car(np.random.default_rng([seed, i]), prior) for i in range(n)]


def occupancy(car: Car, points: np.ndarray | Tensor) -> np.ndarray:
    """Bool (N,): which points (N, 3) lie inside the car's solid (inside any part)."""
    pts = np.asarray(points, dtype=np.float64)
    inside = np.zeros(len(pts), dtype=bool)
    for part in car.parts:
        d = pts - part.centre
        if isinstance(part, Box):
            inside |= np.all(np.abs(d) <= part.extents / 2, axis=1)
        else:
            inside |= ((d[:, 0] ** 2 + d[:, 1] ** 2 <= part.radius ** 2)
                       & (np.abs(d[:, 2]) <= part.width / 2))
    return inside


def voxel_centres(resolution: int) -> np.ndarray:
    """Centres (R^3, 3) of a resolution^3 grid over [-1, 1]^3, in (x, y, z) index order."""
    c = (np.arange(resolution) + 0.5) / resolution * 2.0 - 1.0
    grid = np.stack(np.meshgrid(c, c, c, indexing="ij"), axis=-1)
    return grid.reshape(-1, 3)


def car_voxels(car: Car, resolution: int) -> Tensor:
    """Solid occupancy (R, R, R) bool of the car over [-1, 1]^3 (voxel centres tested)."""
    occ = occupancy(car, voxel_centres(resolution))
    return torch.from_numpy(occ.reshape(resolution, resolution, resolution))


def surface_points(car: Car, n: int, seed: int = 0) -> Tensor:
    """``n`` points (n, 3) uniform over the car's *outer* surface.

    Points are drawn from the parts' meshes (:func:`introdl.content3d.sampling.sample_surface`)
    and those lying inside another part (faces hidden in the union, e.g. the tops of the
    wheels inside the body) are dropped: a point is kept when a step of 1e-3 along its
    outward normal leaves the solid.
    """
    from introdl.content3d.sampling import sample_surface

    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    total = 0
    while total < n:
        pts, normals = sample_surface(car.verts, car.faces, 2 * n, rng)
        out = ~occupancy(car, (pts + 1e-3 * normals).numpy())
        kept.append(pts.numpy()[out])
        total += int(out.sum())
    return torch.from_numpy(np.concatenate(kept)[:n])
