"""Procedural cities: seeded, inside their window, planar, and their parameters act as stated."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from introdl.worlds.roads.graph import positions, simplify
from introdl.worlds.roads.stats import block_areas, graph_stats
from introdl.worlds.roads.styles import STYLES, StyleParams, procedural_city


def _same(a: nx.Graph, b: nx.Graph) -> bool:
    return (a.number_of_edges() == b.number_of_edges()
            and np.array_equal(positions(a)[1], positions(b)[1]))


@pytest.mark.parametrize("style", STYLES)
def test_same_seed_same_city_inside_the_window(style):
    a, b, c = (procedural_city(style, s, 400.0) for s in (3, 3, 4))
    assert _same(a, b) and not _same(a, c)
    _, xy = positions(a)
    assert xy.min() >= 0 and xy.max() < 400.0
    assert a.number_of_edges() >= 10 and min(d for _, d in a.degree()) >= 1
    b2 = procedural_city(style, np.random.default_rng(3), 400.0)  # a Generator works too
    assert _same(a, b2)


@pytest.mark.parametrize("style", ("grid", "radial"))
def test_blocks_match_euler_formula(style):
    # a planar drawing has E - V + C bounded faces; polygonize must find exactly those
    s = simplify(procedural_city(style, 7))
    faces = s.number_of_edges() - s.number_of_nodes() + nx.number_connected_components(s)
    assert len(block_areas(s)) == faces


def test_parameters_change_the_city_as_stated():
    full = procedural_city("grid", 1, params=StyleParams(grid_drop=0.0))
    sparse = procedural_city("grid", 1, params=StyleParams(grid_drop=0.5))
    assert sparse.number_of_edges() < 0.7 * full.number_of_edges()
    mean_degree = [np.mean([d for _, d in simplify(c).degree()]) for c in (full, sparse)]
    assert mean_degree[0] > mean_degree[1] + 0.4  # dropped edges: fewer crossings
    small = procedural_city("grid", 1, params=StyleParams(grid_block=(50.0, 50.0),
                                                          grid_aspect=1.0, jitter=0.0))
    lengths = graph_stats(small)["length"]
    assert np.median(lengths) == pytest.approx(50.0, abs=1e-6)
    dense = np.mean([procedural_city("organic", s, params=StyleParams(organic_density=200.0))
                     .number_of_nodes() for s in range(3)])
    loose = np.mean([procedural_city("organic", s, params=StyleParams(organic_density=50.0))
                     .number_of_nodes() for s in range(3)])
    assert dense > 2 * loose
    radial = graph_stats(procedural_city("radial", 2, params=StyleParams(radial_drop=0.0)))
    assert np.mean(np.abs(radial["angle"] - 90) < 10) > 0.6  # rings meet spokes at right angles
