"""The scene-graph tree: pre-order walk, find by kind, deep copy."""

from __future__ import annotations

from introdl.worlds.scene_graph import Node


def _tree() -> Node:
    root = Node("scene", {"camera_height": 1.5})
    road = root.add(Node("road"))
    lane = road.add(Node("lane", {"x": 0.0}))
    lane.add(Node("car", {"z": 10.0}))
    lane.add(Node("car", {"z": 20.0}))
    root.add(Node("side", children=[Node("tree")]))
    return root


def test_walk_is_pre_order_and_find_filters_by_kind():
    root = _tree()
    assert [n.kind for n in root.walk()] == ["scene", "road", "lane", "car", "car", "side",
                                             "tree"]
    assert [c.attrs["z"] for c in root.find("car")] == [10.0, 20.0]
    assert root.find("pedestrian") == [] and len(root) == 7
    assert "car(z=20.00)" in root.pretty()


def test_copy_is_deep():
    root = _tree()
    dup = root.copy()
    assert dup == root
    dup.find("car")[0].attrs["z"] = 99.0
    dup.find("lane")[0].children.pop()
    assert root.find("car")[0].attrs["z"] == 10.0 and len(root.find("car")) == 2
    assert dup != root
