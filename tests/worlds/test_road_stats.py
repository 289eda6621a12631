"""Road-graph statistics on hand-made graphs, the graph operations, and the distances."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from introdl.worlds.roads.graph import add_road, crop, resample, simplify, total_length
from introdl.worlds.roads.stats import (
    block_areas,
    graph_stats,
    intersection_angles,
    pool,
    scales,
    stat_distance,
)


def _plus_in_square() -> nx.Graph:
    """A 200 m square with a cross through its centre: 4 blocks of 100 x 100 m."""
    g = nx.Graph()
    pts = {0: (0, 0), 1: (100, 0), 2: (200, 0), 3: (0, 100), 4: (100, 100), 5: (200, 100),
           6: (0, 200), 7: (100, 200), 8: (200, 200)}
    for n, p in pts.items():
        g.add_node(n, pos=np.array(p, dtype=float))
    for a, b in ((0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (0, 3), (3, 6), (1, 4),
                 (4, 7), (2, 5), (5, 8)):
        add_road(g, a, b)
    return g


def test_statistics_of_a_known_graph():
    st = graph_stats(_plus_in_square())
    # corners have degree 2 and are contracted: 4 T-junctions, 1 crossing
    assert sorted(st["degree"]) == [3, 3, 3, 3, 4]
    assert sorted(st["length"]) == pytest.approx([100] * 4 + [200] * 4)  # around a corner
    assert sorted(st["angle"]) == pytest.approx(sorted([90.0] * 4 + [90, 90, 180] * 4))
    assert sorted(10 ** st["block"]) == pytest.approx([1e4] * 4)


def test_angles_sum_to_a_full_turn_at_each_intersection():
    rng = np.random.default_rng(0)
    g = nx.Graph()
    g.add_node(0, pos=np.zeros(2))
    for k, a in enumerate(np.sort(rng.uniform(0, 2 * np.pi, 5)), start=1):
        g.add_node(k, pos=50 * np.array([np.cos(a), np.sin(a)]))
        add_road(g, 0, k)
    ang = intersection_angles(g)
    assert len(ang) == 5 and ang.sum() == pytest.approx(360.0) and (ang > 0).all()


def test_block_areas_agree_with_the_shoelace_formula():
    g = nx.Graph()
    tri = np.array([[0, 0], [120, 10], [30, 90]], dtype=float)
    for i, p in enumerate(tri):
        g.add_node(i, pos=p)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        add_road(g, a, b)
    x, y = tri[:, 0], tri[:, 1]
    shoelace = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    assert block_areas(g) == pytest.approx([shoelace])


def test_simplify_keeps_length_and_splits_loops_and_parallel_roads():
    g = _plus_in_square()
    g.add_node(9, pos=np.array([100.0, -50.0]))  # a second road 0 -> 9 -> 2: parallel to 0-1-2
    add_road(g, 0, 9)
    add_road(g, 9, 2)
    for n, p in ((10, (300, 300)), (11, (320, 300)), (12, (310, 320))):  # a lone loop
        g.add_node(n, pos=np.array(p, dtype=float))
    add_road(g, 10, 11)
    add_road(g, 11, 12)
    add_road(g, 12, 10)
    s = simplify(g)
    assert total_length(s) == pytest.approx(total_length(g))
    assert s.number_of_edges() - s.number_of_nodes() == g.number_of_edges() - g.number_of_nodes()
    r = resample(s, 30.0)
    assert total_length(resample(g, 30.0)) == pytest.approx(total_length(g))  # straight: exact
    assert 0.97 * total_length(s) < total_length(r) <= total_length(s)  # corners become chords
    assert max(d["length"] for *_, d in r.edges(data=True)) <= 30.0 + 1e-9
    assert sorted(d for _, d in simplify(r).degree() if d != 2) == sorted(
        d for _, d in s.degree() if d != 2)


def test_crop_keeps_inner_nodes_and_shifts():
    c = crop(_plus_in_square(), (50, 50), (250, 250))
    assert c.number_of_nodes() == 4 and c.number_of_edges() == 4
    assert min(float(c.nodes[n]["pos"].min()) for n in c.nodes) == pytest.approx(50.0)


def test_distance_is_zero_for_equal_sets_and_uses_scipy_wasserstein():
    rng = np.random.default_rng(1)
    a = {k: rng.normal(0, 1, 50) for k in ("degree", "length", "angle", "block")}
    b = {k: v + 2.0 for k, v in a.items()}
    sc = scales([a, b])
    assert stat_distance(a, a, sc) == pytest.approx(0.0)
    expected = sum(wasserstein_distance(a[k], b[k]) / sc[k] for k in a)
    assert stat_distance(a, b, sc) == pytest.approx(expected)
    empty = {k: np.zeros(0) for k in a}
    assert stat_distance(empty, a, sc) == pytest.approx(4.0)  # nothing drawn: penalised
    assert len(pool([a, b])["length"]) == 100
