"""The scene-graph network: encoding, identity at the start, bounded learned-slot updates."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from introdl.worlds.gnn import AttrSchema, SceneGNN, write_attrs
from introdl.worlds.grammar import GrammarParams, sample_scenes

LEARNED = [("scene", "camera_height"), ("car", "r"), ("car", "x")]


def _schema(scales=None):
    return AttrSchema.fit(sample_scenes(GrammarParams.prior(), 30, 0), LEARNED, scales=scales)


def _busy(n: int, seed: int):
    params = GrammarParams(cars_per_lane_probs=(0, 0, 1, 0, 0))  # 2 cars in every lane
    return sample_scenes(params, n, seed)


def test_encoding_matches_the_trees():
    schema = _schema()
    scenes = _busy(3, 1)
    batch = schema.encode(scenes)
    n = sum(len(s) for s in scenes)
    assert batch.features.shape == (n, schema.feature_dim)
    assert batch.edges.shape == (2, 2 * (n - len(scenes)))  # every parent-child edge, both ways
    assert torch.equal(torch.bincount(batch.graph), torch.tensor([len(s) for s in scenes]))
    kinds = [node.kind for node in batch.nodes]
    assert batch.features[:, :len(schema.kinds)].argmax(1).tolist() == \
        [schema.kinds.index(k) for k in kinds]
    learned_kinds = {kinds[i] for i in torch.nonzero(batch.learned.any(1)).ravel().tolist()}
    assert learned_kinds == {"scene", "car"}
    n_cars = sum(len(s.find("car")) for s in scenes)
    assert int(batch.learned.sum()) == len(scenes) + 2 * n_cars
    i = kinds.index("car")
    assert float(batch.values[i, schema.attrs.index("r")]) == pytest.approx(
        batch.nodes[i].attrs["r"], rel=1e-6)


def test_untrained_network_is_the_identity_and_updates_are_bounded():
    schema = _schema(scales={"x": 0.2})
    torch.manual_seed(0)
    gnn = SceneGNN(schema, hidden=16, layers=2, max_delta=3.0)
    batch = schema.encode(_busy(2, 2))
    assert torch.equal(gnn(batch), batch.values)
    with torch.no_grad():
        gnn.head.weight.normal_(0, 5.0)
        gnn.head.bias.fill_(10.0)
        out = gnn(batch)
    moved = (out - batch.values).abs()
    assert torch.all(moved[~batch.learned] == 0)
    assert moved[batch.learned].min() > 0
    bound = 3.0 * torch.as_tensor(schema.scale, dtype=torch.float32)
    assert torch.all(moved <= bound + 1e-5)
    assert float(moved[:, schema.attrs.index("x")].max()) <= 0.6 + 1e-5  # 3 x the given unit


@torch.no_grad()
def test_messages_carry_the_camera_to_the_cars_in_three_rounds():
    schema = _schema()
    scene = _busy(1, 3)[0]
    cars = [i for i, node in enumerate(schema.encode([scene]).nodes) if node.kind == "car"]
    for layers, reaches in ((2, False), (3, True)):  # scene -> road -> lane -> car: 3 hops
        torch.manual_seed(1)
        gnn = SceneGNN(schema, hidden=16, layers=layers)
        gnn.head.weight.normal_(0, 1.0)
        s = scene.copy()
        base = gnn.deltas(schema.encode([s]))
        s.attrs["camera_height"] += 1.0  # only the root changes
        change = (gnn.deltas(schema.encode([s]))[cars] - base[cars]).abs().max()
        assert (change > 1e-4) == reaches


def test_write_attrs_puts_learned_values_back():
    schema = _schema()
    scenes = _busy(1, 4)
    batch = schema.encode(scenes)
    values = batch.values.clone()
    values[batch.learned] += 0.25
    write_attrs(batch, values, schema)
    car = scenes[0].find("car")[0]
    j = batch.nodes.index(car)
    assert car.attrs["r"] == pytest.approx(float(values[j, schema.attrs.index("r")]))
    assert car.attrs["width"] == scenes[0].copy().find("car")[0].attrs["width"]  # untouched
    assert car.attrs["width"] == pytest.approx(float(batch.values[j, schema.attrs.index("width")]),
                                               rel=1e-6)


def test_unknown_slots_are_refused():
    with pytest.raises(ValueError, match="unknown learned slot"):
        AttrSchema.fit(_busy(1, 0), [("car", "wheels")])
    with pytest.raises(ValueError, match="scales"):
        _schema(scales={"wheels": 1.0})
    assert np.all(_schema().std > 0)
