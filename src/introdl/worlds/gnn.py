"""A message-passing graph neural network over scene graphs that rewrites node attributes.

Meta-Sim (Kar et al. 2019) keeps the structure a scene grammar samples and learns to
change the *attributes* of its nodes. The graph is the scene tree with edges both ways
between each parent and child. Each node starts from

    x_v = [one-hot(kind) | standardised attribute values | which attributes it has]

(attributes are standardised by a mean and std fitted on prior scenes, 0 where a kind
lacks one). An MLP embeds x_v; ``layers`` rounds of message passing follow,

    m_v = mean_{u in N(v)} W_msg h_u,      h_v <- h_v + MLP([h_v, m_v]),

and a linear head reads a delta for every attribute slot. The new value of a learned slot
(a (kind, attribute) pair in ``learned``) is ``a + max_delta * tanh(delta) * scale``, where
``scale`` is the attribute's std over prior scenes unless given (a per-attribute unit, e.g.
0.2 m for a car's lateral position, whose std over the road mostly measures lane spacing):
at most ``max_delta`` units from the sampled value, so noisy gradients cannot fling an
attribute out of range; other slots keep their values. The head starts at zero, so the
untrained network is the identity: what Meta-Sim's reconstruction pre-training (teach the
network to copy its input) achieves, exactly. A car is three hops from the scene root
(scene -> road -> lane -> car), so ``layers >= 3`` lets its update depend on the camera.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from introdl.worlds.scene_graph import Node

KINDS = ("scene", "road", "lane", "side", "car", "pedestrian", "building", "tree")


@dataclass
class GraphBatch:
    """Several scene graphs as one disjoint graph (nodes in pre-order, scene after scene)."""

    features: torch.Tensor  # (V, F) network input
    edges: torch.Tensor  # (2, E) long, source -> target, both directions
    values: torch.Tensor  # (V, A) raw attribute values (0 where absent)
    learned: torch.Tensor  # (V, A) bool, slots the network may change
    graph: torch.Tensor  # (V,) long, which scene each node belongs to
    nodes: list[Node]  # the nodes, same order


class AttrSchema:
    """Which kinds and attributes exist, their standardisation, and the learned slots."""

    def __init__(self, kinds: Sequence[str], attrs: Sequence[str], mean: np.ndarray,
                 std: np.ndarray, learned: Iterable[tuple[str, str]],
                 scales: Mapping[str, float] | None = None) -> None:
        self.kinds, self.attrs = tuple(kinds), tuple(attrs)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        self.learned = tuple(learned)
        scales = dict(scales or {})
        unknown = set(scales) - set(self.attrs)
        if unknown:
            raise ValueError(f"scales name unknown attributes: {sorted(unknown)}")
        # One unit of the network's output per attribute: the std unless a scale is given.
        self.scale = np.array([scales.get(a, s) for a, s in zip(self.attrs, self.std,
                                                                  strict=True)])
        for kind, attr in self.learned:
            if kind not in self.kinds or attr not in self.attrs:
                raise ValueError(f"unknown learned slot {kind}.{attr}")

    @classmethod
    def fit(cls, scenes: Sequence[Node], learned: Iterable[tuple[str, str]],
            kinds: Sequence[str] = KINDS,
            scales: Mapping[str, float] | None = None) -> AttrSchema:
        """Attribute names and per-attribute mean/std (std >= 1e-3) from ``scenes``."""
        seen: dict[str, list[float]] = {}
        for scene in scenes:
            for node in scene.walk():
                for k, v in node.attrs.items():
                    seen.setdefault(k, []).append(float(v))
        attrs = sorted(seen)
        mean = np.array([np.mean(seen[a]) for a in attrs])
        std = np.array([max(np.std(seen[a]), 1e-3) for a in attrs])
        return cls(kinds, attrs, mean, std, learned, scales)

    @property
    def feature_dim(self) -> int:
        return len(self.kinds) + 2 * len(self.attrs)

    def slots(self, kind: str) -> list[int]:
        """Indices (into attrs) of the learned slots of ``kind``."""
        return [self.attrs.index(a) for k, a in self.learned if k == kind]

    def encode(self, scenes: Sequence[Node]) -> GraphBatch:
        """Stack scene graphs into one :class:`GraphBatch`."""
        feats, values, learned, graph, nodes, src, dst = [], [], [], [], [], [], []
        for g, scene in enumerate(scenes):
            index: dict[int, int] = {}
            for node in scene.walk():
                index[id(node)] = len(nodes)
                nodes.append(node)
                graph.append(g)
                v = np.zeros(len(self.attrs))
                has = np.zeros(len(self.attrs))
                for k, val in node.attrs.items():
                    if k in self.attrs:
                        i = self.attrs.index(k)
                        v[i], has[i] = val, 1.0
                one_hot = np.zeros(len(self.kinds))
                if node.kind in self.kinds:
                    one_hot[self.kinds.index(node.kind)] = 1.0
                z = np.where(has > 0, (v - self.mean) / self.std, 0.0)
                feats.append(np.concatenate([one_hot, z, has]))
                values.append(v)
                mask = np.zeros(len(self.attrs), dtype=bool)
                mask[self.slots(node.kind)] = True
                learned.append(mask & (has > 0))
            for node in scene.walk():
                for child in node.children:
                    a, b = index[id(node)], index[id(child)]
                    src += [a, b]
                    dst += [b, a]
        return GraphBatch(
            features=torch.tensor(np.asarray(feats), dtype=torch.float32),
            edges=torch.tensor([src, dst], dtype=torch.long).reshape(2, -1),
            values=torch.tensor(np.asarray(values), dtype=torch.float32),
            learned=torch.tensor(np.asarray(learned), dtype=torch.bool),
            graph=torch.tensor(graph, dtype=torch.long), nodes=nodes)


class SceneGNN(nn.Module):
    """Graph network: a scene batch -> new attribute values (V, A) (learned slots only move)."""

    def __init__(self, schema: AttrSchema, hidden: int = 64, layers: int = 3,
                 max_delta: float = 3.0) -> None:
        super().__init__()
        self.schema = schema
        self.max_delta = max_delta
        self.embed = nn.Sequential(nn.Linear(schema.feature_dim, hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden))
        self.message = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.update = nn.ModuleList(
            nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
            for _ in range(layers))
        self.head = nn.Linear(hidden, len(schema.attrs))
        nn.init.zeros_(self.head.weight)  # start as the identity map
        nn.init.zeros_(self.head.bias)
        self.register_buffer("scale", torch.tensor(schema.scale, dtype=torch.float32))

    def deltas(self, batch: GraphBatch) -> torch.Tensor:
        """Per-node, per-attribute change (V, A) before the tanh bound and masking, in units of
        each attribute's ``scale`` (its prior std unless a scale was given)."""
        h = self.embed(batch.features)
        src, dst = batch.edges
        deg = torch.zeros(len(h)).index_add_(0, dst, torch.ones(len(dst))).clamp_min(1)
        for msg, upd in zip(self.message, self.update, strict=True):
            m = torch.zeros_like(h).index_add_(0, dst, msg(h)[src]) / deg[:, None]
            h = h + upd(torch.cat([h, m], 1))
        return self.head(h)

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        step = self.max_delta * torch.tanh(self.deltas(batch))  # bounded: |step| < max_delta
        return batch.values + batch.learned * step * self.scale


def write_attrs(batch: GraphBatch, values: torch.Tensor, schema: AttrSchema) -> None:
    """Write the learned slots of ``values`` (V, A) back into the batch's nodes, in place."""
    vals = values.detach().cpu().numpy()
    mask = batch.learned.cpu().numpy()
    for i, node in enumerate(batch.nodes):
        for j in np.nonzero(mask[i])[0]:
            node.attrs[schema.attrs[j]] = float(vals[i, j])
