"""Road-graph statistics and the distances between their distributions.

Per road graph, after :func:`~introdl.worlds.roads.graph.simplify` (so nodes are intersections
and dead ends):

- ``degree``: every node's degree (1 = dead end, 3 = T, 4 = crossing);
- ``length``: every segment's length (polyline, intersection to intersection), metres;
- ``angle``: at every node of degree >= 3, the angles between angularly consecutive roads,
  each road's direction taken towards the point ``probe`` metres along it (degrees; they sum
  to 360 per node);
- ``block``: log10 of the area (m^2) of every bounded face of the drawn network (a city block),
  from shapely's ``polygonize`` of the noded lines.

Distances between two sets of graphs are 1-D Wasserstein distances
(``scipy.stats.wasserstein_distance``) per statistic, divided by a per-statistic scale so they
add up without units (:func:`stat_distance`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np

from introdl.worlds.roads.graph import edge_coords, simplify

STATS = ("degree", "length", "angle", "block")


def _direction(coords: np.ndarray, probe: float) -> float:
    seg = np.linalg.norm(np.diff(coords, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    at = min(probe, cum[-1])
    p = np.array([np.interp(at, cum, coords[:, 0]), np.interp(at, cum, coords[:, 1])])
    d = p - coords[0]
    return float(np.arctan2(d[1], d[0]))


def intersection_angles(g: nx.Graph, probe: float = 15.0) -> np.ndarray:
    """Angles (degrees) between consecutive roads around each node of degree >= 3."""
    out = []
    for n in g.nodes:
        if g.degree(n) < 3:
            continue
        b = np.sort([_direction(edge_coords(g, n, w), probe) for w in g.neighbors(n)])
        gaps = np.diff(np.concatenate([b, [b[0] + 2 * np.pi]]))
        out.extend(np.rad2deg(gaps))
    return np.array(out, dtype=float)


def block_areas(g: nx.Graph) -> np.ndarray:
    """Areas (m^2) of the bounded faces of the drawn network (shapely polygonize)."""
    from shapely import LineString, unary_union
    from shapely.ops import polygonize

    lines = [LineString(d["coords"]) for _, _, d in g.edges(data=True)
             if d["length"] > 0]
    if not lines:
        return np.zeros(0)
    areas = np.array([p.area for p in polygonize(unary_union(lines))], dtype=float)
    return areas[areas > 1.0]


def graph_stats(g: nx.Graph, already_simple: bool = False) -> dict[str, np.ndarray]:
    """The four statistics of one road graph (simplified first unless told it is)."""
    s = g if already_simple else simplify(g)
    return {
        "degree": np.array([d for _, d in s.degree()], dtype=float),
        "length": np.array([d["length"] for _, _, d in s.edges(data=True)], dtype=float),
        "angle": intersection_angles(s),
        "block": np.log10(block_areas(s)) if s.number_of_edges() else np.zeros(0),
    }


def pool(stats: Iterable[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate the statistics of several graphs (one city's windows)."""
    items = list(stats)
    return {k: np.concatenate([s[k] for s in items] + [np.zeros(0)]) for k in STATS}


def scales(pools: Iterable[Mapping[str, np.ndarray]]) -> dict[str, float]:
    """Per-statistic scale: the standard deviation over all given pools together."""
    items = list(pools)
    return {k: float(np.std(np.concatenate([p[k] for p in items]))) or 1.0 for k in STATS}


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance

    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(wasserstein_distance(a, b))


def stat_distance(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray],
                  scale: Mapping[str, float]) -> float:
    """Sum over the statistics of W1(a, b) / scale; an empty statistic counts as 1 scale unit
    per missing side (a generator that draws no blocks is penalised, not excused)."""
    total = 0.0
    for k in STATS:
        w = wasserstein(a[k], b[k])
        total += 1.0 if np.isnan(w) else w / scale[k]
    return total
