"""pyrosm's bundled extract -> planar graph in metres: counts, lengths, simplification."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest

from introdl.worlds.roads.graph import simplify, total_length
from introdl.worlds.roads.osm import extract_path, load_extract, read_network


@pytest.fixture(scope="module")
def town():
    return load_extract("test-town")


def test_conversion_keeps_node_and_edge_counts(town):
    import pyrosm

    nodes, edges = read_network(extract_path("test-town"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pyrosm.OSM.to_graph(nodes, edges, graph_type="networkx", simplify=False,
                                  retain_all=True, force_bidirectional=True, progress=False)
    ref = nx.Graph(ref.to_undirected())
    ref.remove_edges_from(list(nx.selfloop_edges(ref)))
    g = town.graph
    assert (g.number_of_nodes(), g.number_of_edges()) == (ref.number_of_nodes(),
                                                          ref.number_of_edges())
    assert set(g.nodes) == set(ref.nodes)
    pairs = {frozenset(p) for p in zip(edges["u"], edges["v"], strict=True) if p[0] != p[1]}
    assert g.number_of_edges() == len(pairs) and g.number_of_nodes() == len(
        set(edges["u"]) | set(edges["v"]))


def test_projected_lengths_are_metres(town):
    # pyrosm's own 'length' column (great-circle metres) against our UTM polyline lengths
    e = town.edges.drop_duplicates(subset=["u", "v"])
    ours = {frozenset((u, v)): d["length"] for u, v, d in town.graph.edges(data=True)}
    pairs = [(ours[frozenset((u, v))], float(length)) for u, v, length
             in zip(e["u"], e["v"], e["length"], strict=True) if u != v]
    a, b = np.array(pairs).T
    assert a.sum() == pytest.approx(b.sum(), rel=5e-3)
    assert np.median(np.abs(a - b)) < 0.5


def test_simplification_keeps_length_and_intersections(town):
    import pyrosm

    g = town.graph
    s = simplify(g)
    assert total_length(s) == pytest.approx(total_length(g), rel=1e-9)
    ends = {n for n in g.nodes if g.degree(n) != 2}
    assert {n for n in s.nodes if s.degree(n) != 2} == ends
    assert s.number_of_nodes() < g.number_of_nodes() / 2
    # contraction keeps the cycle rank (E - V): no road is lost or doubled
    assert (s.number_of_edges() - s.number_of_nodes()
            == g.number_of_edges() - g.number_of_nodes())
    assert nx.number_connected_components(s) == nx.number_connected_components(g)
    # pyrosm's own topological simplification keeps every one of our intersections/ends
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pyrosm.OSM.to_graph(town.nodes, town.edges, graph_type="networkx",
                                  simplify=True, retain_all=True, force_bidirectional=True,
                                  progress=False)
    assert ends <= set(ref.nodes)
