"""Neural Turtle Graphics: tokens, incoming paths, training examples, learning, growth."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from introdl.worlds.roads.graph import resample
from introdl.worlds.roads.grow import grow
from introdl.worlds.roads.ntg import (
    NTG,
    STOP,
    Turtle,
    collate,
    examples_from_graph,
    incoming_paths,
    train_ntg,
)
from introdl.worlds.roads.styles import procedural_city


def test_tokens_round_trip_through_offsets():
    t = Turtle()
    rng = np.random.default_rng(0)
    for frame in (0.0, 1.1, -2.5):
        for tok in range(1, t.vocab):
            off = t.offset(tok, frame, rng)
            assert t.token(off, frame) == tok
            assert 0 < np.linalg.norm(off) <= t.step


def test_paths_are_in_the_turtle_frame():
    t = Turtle(path_len=3)
    a = np.deg2rad(37.0)
    d = np.array([np.cos(a), np.sin(a)])
    pos = {i: i * 40.0 * d for i in range(4)}  # a straight road heading 37 degrees
    parent = {0: None, 1: 0, 2: 1, 3: 2}
    paths, mask, frame = incoming_paths(pos, parent, [2], 3, t, degree=lambda n: 2)
    assert frame == pytest.approx(a)
    assert mask.tolist() == [True, False, False]
    assert paths[0, :, :2] == pytest.approx(np.tile([1.0, 0.0], (3, 1)), abs=1e-6)
    assert paths[0, :, 3].tolist() == [1.0, 1.0, 1.0] and paths[1].sum() == 0


def test_every_edge_is_produced_exactly_once_per_order():
    g = resample(procedural_city("organic", 0, 300.0), 40.0)
    t = Turtle()
    ex = examples_from_graph(g, 0, np.random.default_rng(0), orders=2, t=t)
    assert len(ex) == 2 * g.number_of_nodes()
    per_order = sum(len(e[3]) - 1 for e in ex[: g.number_of_nodes()])  # tokens minus STOP
    assert per_order == g.number_of_edges() and all(e[3][-1] == STOP for e in ex)
    assert sum(int(e[1].sum() == 0) for e in ex[: g.number_of_nodes()]) == \
        nx.number_connected_components(g)  # only roots have no incoming path


def test_ntg_learns_and_conditions_on_style():
    t = Turtle()
    rng = np.random.default_rng(0)
    ex = []
    for sid, style in enumerate(("grid", "organic")):
        for s in range(2):
            ex += examples_from_graph(resample(procedural_city(style, s, 300.0), 40.0),
                                      sid, rng, 1, t)
    model, losses = train_ntg(ex, 2, epochs=8, seed=0, t=t, hidden=32, batch=32)
    assert losses[-1] < 0.7 * losses[0]
    paths, mask, style, tin, target = collate(ex[:64], t)
    logits = model(paths, mask, style, tin)
    assert logits.shape == (64, t.max_out + 1, t.vocab)
    with torch.no_grad():
        p_grid = torch.softmax(model(paths, mask, torch.zeros_like(style), tin), -1)
        p_org = torch.softmax(model(paths, mask, torch.ones_like(style), tin), -1)
    assert (p_grid - p_org).abs().sum(-1).mean() > 0.05  # the style id changes the output


def test_growth_is_seeded_planar_and_bounded():
    torch.manual_seed(0)
    model = NTG(2, Turtle(), hidden=16)
    a = grow(model, [0, 1], extent=300.0, seed=5, max_nodes=60)
    b = grow(model, [0, 1], extent=300.0, seed=5, max_nodes=60)
    for g, h in zip(a, b, strict=True):
        assert sorted(g.edges) == sorted(h.edges)
        xy = np.array([g.nodes[n]["pos"] for n in g.nodes])
        assert g.number_of_nodes() <= 60 and xy.min() >= 0 and xy.max() < 300.0
        assert min(d for _, d in g.degree()) >= 1
        assert _planar_drawing(g)


def test_extending_keeps_the_given_map():
    torch.manual_seed(0)
    model = NTG(1, Turtle(), hidden=16)
    part = nx.Graph()
    for i in range(3):
        part.add_node(i, pos=np.array([100.0 + 30 * i, 150.0]))
    part.add_edge(0, 1)
    part.add_edge(1, 2)
    for u, v in part.edges:
        part.edges[u, v]["coords"] = np.array([part.nodes[u]["pos"], part.nodes[v]["pos"]])
    (g,) = grow(model, [0], extent=300.0, seed=1, max_nodes=40, partials=[(part, {0, 2})])
    assert g.number_of_nodes() >= 3
    for i in range(3):
        assert g.nodes[i]["pos"] == pytest.approx(part.nodes[i]["pos"])
    assert g.has_edge(0, 1) or g.has_edge(1, 2)  # kept (an edge may be cut by a junction)


def _planar_drawing(g: nx.Graph) -> bool:
    """No two roads cross except at a shared end (shapely)."""
    from shapely import LineString

    lines = {e: LineString(g.edges[e]["coords"]) for e in g.edges}
    items = list(lines.items())
    for i, (e, a) in enumerate(items):
        for f, b in items[i + 1:]:
            if set(e) & set(f):
                continue
            if a.intersects(b):
                return False
    return True
