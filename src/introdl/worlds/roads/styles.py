"""Procedurally generated cities (grid, radial, organic): simulated road graphs in metres.

Every generator returns a road graph (:mod:`introdl.worlds.roads.graph`) on the square window
[0, extent)^2 and is deterministic in its seed (an int or a ``numpy.random.Generator``). The
generative models, with their parameters (``StyleParams``):

- **grid**: a rotated lattice. Block sides ``sx ~ U(grid_block)`` and ``sy ~ U(grid_block) *
  U(1, grid_aspect)`` metres, rotation ``~ U(0, 90)`` degrees; every lattice node is moved by
  ``N(0, jitter^2)`` per axis; every lattice edge is dropped with probability ``grid_drop``.
- **radial**: rings and spokes around a centre drawn uniformly in the window's middle 40%.
  Ring spacing ``~ U(radial_ring)`` metres; ``n ~ U{radial_spokes}`` spokes at equal angles plus
  ``N(0, 3 deg)`` each; rings are circular arcs between spokes (polylines every 10 degrees);
  each arc and each spoke segment is dropped with probability ``radial_drop``.
- **organic**: the ridges of a Voronoi diagram of a Poisson point process of intensity
  ``organic_density`` points per km^2; each ridge is bent into a quadratic curve whose midpoint
  moves sideways by ``N(0, (organic_bend * length)^2)``; each ridge is dropped with probability
  ``organic_drop`` (dead ends, larger blocks).

Nodes outside the window are removed with their edges (as a real map window is cropped).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from introdl.worlds.roads.graph import add_road, crop, relabel

STYLES = ("grid", "radial", "organic")


@dataclass(frozen=True)
class StyleParams:
    grid_block: tuple[float, float] = (70.0, 120.0)
    grid_aspect: float = 1.8
    grid_drop: float = 0.08
    jitter: float = 2.0
    radial_ring: tuple[float, float] = (80.0, 120.0)
    radial_spokes: tuple[int, int] = (8, 12)
    radial_drop: float = 0.08
    organic_density: float = 90.0
    organic_bend: float = 0.12
    organic_drop: float = 0.12


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def grid_city(seed, extent: float = 500.0, p: StyleParams = StyleParams()) -> nx.Graph:
    rng = _rng(seed)
    sx = rng.uniform(*p.grid_block)
    sy = rng.uniform(*p.grid_block) * rng.uniform(1.0, p.grid_aspect)
    th = np.deg2rad(rng.uniform(0, 90))
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    half = extent * 0.75
    ni, nj = int(np.ceil(half / sx)), int(np.ceil(half / sy))
    g = nx.Graph()
    idx = {}
    centre = np.array([extent / 2, extent / 2])
    for i in range(-ni, ni + 1):
        for j in range(-nj, nj + 1):
            pos = centre + rot @ np.array([i * sx, j * sy]) + rng.normal(0, p.jitter, 2)
            idx[i, j] = len(idx)
            g.add_node(idx[i, j], pos=pos)
    for (i, j), a in idx.items():
        for di, dj in ((1, 0), (0, 1)):
            b = idx.get((i + di, j + dj))
            if b is not None and rng.random() >= p.grid_drop:
                add_road(g, a, b)
    return _finish(g, extent)


def radial_city(seed, extent: float = 500.0, p: StyleParams = StyleParams()) -> nx.Graph:
    rng = _rng(seed)
    centre = rng.uniform(0.3 * extent, 0.7 * extent, 2)
    dr = rng.uniform(*p.radial_ring)
    n = int(rng.integers(p.radial_spokes[0], p.radial_spokes[1] + 1))
    ang = np.sort((np.arange(n) / n * 2 * np.pi + rng.uniform(0, 2 * np.pi)
                   + rng.normal(0, np.deg2rad(3), n)) % (2 * np.pi))
    rings = int(np.ceil(extent * 1.5 / dr))
    g = nx.Graph()
    g.add_node(0, pos=centre.copy())
    idx = {}
    for k in range(1, rings + 1):
        for s in range(n):
            idx[k, s] = len(idx) + 1
            g.add_node(idx[k, s], pos=centre + k * dr * np.array([np.cos(ang[s]), np.sin(ang[s])]))
    for s in range(n):
        for k in range(1, rings + 1):
            a = 0 if k == 1 else idx[k - 1, s]
            if rng.random() >= p.radial_drop:
                add_road(g, a, idx[k, s])
    for k in range(1, rings + 1):
        for s in range(n):
            t = (s + 1) % n
            a0, a1 = ang[s], ang[t] + (2 * np.pi if t == 0 else 0.0)
            if rng.random() < p.radial_drop:
                continue
            m = max(2, int(np.ceil(np.rad2deg(a1 - a0) / 10)) + 1)
            th = np.linspace(a0, a1, m)
            arc = centre + k * dr * np.stack([np.cos(th), np.sin(th)], 1)
            arc[0], arc[-1] = g.nodes[idx[k, s]]["pos"], g.nodes[idx[k, t]]["pos"]
            add_road(g, idx[k, s], idx[k, t], arc)
    return _finish(g, extent)


def organic_city(seed, extent: float = 500.0, p: StyleParams = StyleParams()) -> nx.Graph:
    from scipy.spatial import Voronoi

    rng = _rng(seed)
    margin = 150.0
    side = extent + 2 * margin
    count = rng.poisson(p.organic_density * (side / 1000.0) ** 2)
    pts = rng.uniform(-margin, extent + margin, (max(count, 4), 2))
    vor = Voronoi(pts)
    g = nx.Graph()
    for a, b in vor.ridge_vertices:
        if a < 0 or b < 0 or rng.random() < p.organic_drop:
            continue
        pa, pb = vor.vertices[a], vor.vertices[b]
        d = pb - pa
        length = float(np.linalg.norm(d))
        if length < 1e-6:
            continue
        normal = np.array([-d[1], d[0]]) / length
        mid = (pa + pb) / 2 + normal * rng.normal(0, p.organic_bend * length)
        t = np.linspace(0, 1, 6)[:, None]
        curve = (1 - t) ** 2 * pa + 2 * t * (1 - t) * (2 * mid - (pa + pb) / 2) + t ** 2 * pb
        for n, q in ((a, pa), (b, pb)):
            if n not in g:
                g.add_node(int(n), pos=q.copy())
        add_road(g, int(a), int(b), curve)
    return _finish(g, extent)


GENERATORS = {"grid": grid_city, "radial": radial_city, "organic": organic_city}


def procedural_city(style: str, seed, extent: float = 500.0,
                    params: StyleParams = StyleParams()) -> nx.Graph:
    """One window of a procedurally generated (simulated) city of the given style."""
    return GENERATORS[style](seed, extent, params)


def _finish(g: nx.Graph, extent: float) -> nx.Graph:
    g = crop(g, (0.0, 0.0), (extent, extent), shift=False)
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0])
    return relabel(g)
