"""Growing road graphs with a trained NTG: a breadth-first queue, snapping, bounds.

Each graph grows from a seed node (or from a partial map, for "extend this map"). The node at
the head of the queue is visited: its incoming paths are encoded and the decoder samples new
neighbour offsets. A new point

- outside the window [0, extent)^2 is dropped (the map is a window, like a cropped real map);
- whose road would cross an existing road ends there: the crossed road is cut by a new node
  (an intersection, queued, so the road may go on through it); the graph stays planar;
- within ``snap`` metres of an existing node joins that node instead (this closes blocks),
  else within ``snap`` of an existing road joins it at the foot of the perpendicular (a
  T-junction);
- is dropped if it would meet another road at its start or end at less than ``min_angle``
  degrees (no slivers: a turtle's near-miss is not a block);
- otherwise becomes a new node, queued for a visit.

When the queue runs dry, growth restarts from a fresh seed at a random free spot (at most
``restarts`` times), since a real window may hold several disconnected pieces of road.
Many graphs grow at once (one node per graph per step, batched through the network), each
exactly as if alone. Growth is random: it is seeded by ``seed``.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import torch

from introdl.worlds.roads.graph import add_road
from introdl.worlds.roads.ntg import NTG, incoming_paths


@dataclass
class _Growth:
    extent: float
    style: int
    g: nx.Graph = field(default_factory=nx.Graph)
    parent: dict = field(default_factory=dict)
    visited: set = field(default_factory=set)
    queue: deque = field(default_factory=deque)
    restarts: int = 0
    ends: list = field(default_factory=list)  # (E, 2) node ids of the edges, for crossings
    outcomes: Counter = field(default_factory=Counter)  # what became of each proposed road

    def pos(self, n) -> np.ndarray:
        return self.g.nodes[n]["pos"]

    def add_node(self, p: np.ndarray, parent) -> int:
        n = self.g.number_of_nodes()
        self.g.add_node(n, pos=np.asarray(p, dtype=float))
        self.parent[n] = parent
        self.queue.append(n)
        return n

    def add_edge(self, u: int, v: int) -> None:
        add_road(self.g, u, v)
        self.ends.append((u, v))

    def xy(self) -> np.ndarray:
        return np.array([self.g.nodes[n]["pos"] for n in range(self.g.number_of_nodes())])

    def first_crossing(self, a: int, p: np.ndarray, b: int | None = None
                       ) -> tuple[int, np.ndarray] | None:
        """The existing road that the segment from node a to point p crosses first (its index
        in ``ends`` and the crossing point), ignoring roads that touch a (or node b)."""
        if not self.ends:
            return None
        e = np.array(self.ends)
        keep = (e[:, 0] != a) & (e[:, 1] != a)
        if b is not None:
            keep &= (e[:, 0] != b) & (e[:, 1] != b)
        xy = self.xy()
        p1, p2 = self.pos(a), np.asarray(p, dtype=float)
        q1, q2 = xy[e[:, 0]], xy[e[:, 1]]
        r, s = p2 - p1, q2 - q1
        den = r[0] * s[:, 1] - r[1] * s[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            tt = ((q1[:, 0] - p1[0]) * s[:, 1] - (q1[:, 1] - p1[1]) * s[:, 0]) / den
            uu = ((q1[:, 0] - p1[0]) * r[1] - (q1[:, 1] - p1[1]) * r[0]) / den
        hit = keep & (np.abs(den) > 1e-12) & (tt > 1e-9) & (tt < 1 - 1e-9) \
            & (uu > 1e-9) & (uu < 1 - 1e-9)
        if not hit.any():
            return None
        k = int(np.flatnonzero(hit)[np.argmin(tt[hit])])
        return k, p1 + tt[k] * r

    def near_edge(self, p: np.ndarray, radius: float, avoid: int
                  ) -> tuple[int, np.ndarray] | None:
        """The road passing within ``radius`` of p (not touching ``avoid``), and the foot."""
        if not self.ends:
            return None
        e = np.array(self.ends)
        xy = self.xy()
        q1, q2 = xy[e[:, 0]], xy[e[:, 1]]
        s = q2 - q1
        t = np.clip(np.sum((p - q1) * s, 1) / np.maximum(np.sum(s * s, 1), 1e-12), 0, 1)
        foot = q1 + t[:, None] * s
        d = np.linalg.norm(foot - p, axis=1)
        d[(e[:, 0] == avoid) | (e[:, 1] == avoid)] = np.inf
        k = int(np.argmin(d))
        return (k, foot[k]) if d[k] < radius else None

    def split(self, k: int, at: np.ndarray, parent: int) -> int:
        """Cut road ``ends[k]`` at point ``at`` with a new, queued node (an intersection)."""
        a, b = self.ends.pop(k)
        self.g.remove_edge(a, b)
        x = self.add_node(at, parent)
        self.add_edge(a, x)
        self.add_edge(x, b)
        return x


def _seed(gr: _Growth, rng: np.random.Generator, step: float, centre_only: bool) -> bool:
    lo, hi = (0.25, 0.75) if centre_only else (0.02, 0.98)
    xy = np.array([gr.pos(n) for n in gr.g.nodes]).reshape(-1, 2)
    for _ in range(30):
        p = rng.uniform(lo * gr.extent, hi * gr.extent, 2)
        if len(xy) == 0 or np.min(np.linalg.norm(xy - p, axis=1)) > 2 * step:
            gr.add_node(p, None)
            return True
    return False


def _start_from(gr: _Growth, partial: nx.Graph, frontier: set) -> None:
    """Load a partial map: its nodes are visited except the frontier, which is queued."""
    ids = {n: i for i, n in enumerate(partial.nodes)}
    for n, i in ids.items():
        gr.g.add_node(i, pos=np.asarray(partial.nodes[n]["pos"], dtype=float))
    for u, v in partial.edges:
        gr.add_edge(ids[u], ids[v])
    for comp in nx.connected_components(partial):
        root = min(comp, key=lambda n: (n not in frontier, str(n)))
        gr.parent[ids[root]] = None
        for a, b in nx.bfs_edges(partial, root):
            gr.parent[ids[b]] = ids[a]
    for n, i in ids.items():
        (gr.queue.append(i) if n in frontier else gr.visited.add(i))


def grow(model: NTG, styles: list[int], *, extent: float, seed: int, max_nodes: int = 400,
         snap: float = 14.0, min_angle: float = 25.0, restarts: int = 3, temperature: float = 1.0,
         partials: list[tuple[nx.Graph, set]] | None = None) -> list[nx.Graph]:
    """Grow one graph per entry of ``styles`` (style ids; ``model.any_style`` = unconditioned).

    ``partials``: optional (partial map, frontier nodes) per graph, to extend a map instead of
    starting from a seed.
    """
    t = model.t
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    growths = [_Growth(extent, s) for s in styles]
    for i, gr in enumerate(growths):
        if partials is not None:
            _start_from(gr, *partials[i])
        else:
            _seed(gr, rng, t.step, centre_only=True)
    model.eval()
    while True:
        active = []
        for gr in growths:
            while not gr.queue and gr.restarts < restarts \
                    and gr.g.number_of_nodes() < max_nodes:
                gr.restarts += 1
                _seed(gr, rng, t.step, centre_only=False)
            if gr.queue and gr.g.number_of_nodes() < max_nodes:
                active.append(gr)
        if not active:
            break
        batch, nodes = [], []
        for gr in active:
            v = gr.queue.popleft()
            pos = {n: gr.pos(n) for n in gr.g.nodes}
            done = [w for w in gr.g.neighbors(v) if w in gr.visited]
            paths, mask, frame = incoming_paths(pos, gr.parent, done, v, t,
                                                gr.g.degree)
            batch.append((paths, mask, frame))
            nodes.append(v)
        tokens = model.sample(torch.from_numpy(np.stack([b[0] for b in batch])),
                              torch.from_numpy(np.stack([b[1] for b in batch])),
                              torch.tensor([gr.style for gr in active]), gen, temperature)
        for gr, v, (_, _, frame), toks in zip(active, nodes, batch, tokens, strict=True):
            gr.visited.add(v)
            for tok in toks:
                if gr.g.number_of_nodes() >= max_nodes:
                    break
                gr.outcomes[_place(gr, v, gr.pos(v) + t.offset(tok, frame, rng), extent, snap,
                                   min_angle)] += 1
    for gr in growths:  # a seed the model stopped at once is no road
        gr.g.remove_nodes_from([n for n in list(gr.g.nodes) if gr.g.degree(n) == 0])
        gr.g.graph["outcomes"] = dict(gr.outcomes)
    return [gr.g for gr in growths]


def _wide(gr: _Growth, n: int, q: np.ndarray, min_angle: float) -> bool:
    """Does a road from node n towards q leave at least ``min_angle`` degrees from n's roads?"""
    d = np.asarray(q, dtype=float) - gr.pos(n)
    for w in gr.g.neighbors(n):
        e = gr.pos(w) - gr.pos(n)
        cos = d @ e / max(np.linalg.norm(d) * np.linalg.norm(e), 1e-12)
        if np.degrees(np.arccos(np.clip(cos, -1, 1))) < min_angle:
            return False
    return True


def _join(gr: _Growth, v: int, u: int, min_angle: float) -> str:
    if gr.g.has_edge(v, u):
        return "dropped: already joined"
    if not (_wide(gr, v, gr.pos(u), min_angle) and _wide(gr, u, gr.pos(v), min_angle)):
        return "dropped: narrow angle"
    if gr.first_crossing(v, gr.pos(u), u) is not None:
        return "dropped: would cross"
    gr.add_edge(v, u)
    return "joined a node"


def _place(gr: _Growth, v: int, p: np.ndarray, extent: float, snap: float,
           min_angle: float) -> str:
    """Add the road from v towards p: ended at the first road it crosses (a new intersection),
    else joined to a node or road within ``snap``, else to a new node; dropped outside, or
    where it would leave v (or meet its end) at less than ``min_angle`` degrees from a road.
    Returns what happened (counted in ``graph.graph["outcomes"]``)."""
    if np.any(p < 0) or np.any(p >= extent):
        return "dropped: outside"
    cross = gr.first_crossing(v, p)
    if cross is not None:
        k, at = cross
        a, b = gr.ends[k]
        near = [n for n in (a, b) if np.linalg.norm(gr.pos(n) - at) < snap]
        if near:
            return _join(gr, v, near[0], min_angle)
        if _wide(gr, v, at, min_angle) and _crossing_wide(gr, k, at, v, min_angle):
            gr.add_edge(v, gr.split(k, at, v))
            return "crossed a road (new intersection)"
        return "dropped: narrow angle"
    d = np.linalg.norm(gr.xy() - p, axis=1)
    d[v] = np.inf
    u = int(np.argmin(d))
    if d[u] < snap:
        return _join(gr, v, u, min_angle)
    edge = gr.near_edge(p, snap, avoid=v)
    if edge is not None:
        k, at = edge
        if gr.first_crossing(v, at) is not None:
            return "dropped: would cross"
        if _wide(gr, v, at, min_angle) and _crossing_wide(gr, k, at, v, min_angle):
            gr.add_edge(v, gr.split(k, at, v))
            return "joined a road (T-junction)"
        return "dropped: narrow angle"
    if _wide(gr, v, p, min_angle):
        gr.add_edge(v, gr.add_node(p, v))
        return "new node"
    return "dropped: narrow angle"


def _crossing_wide(gr: _Growth, k: int, at: np.ndarray, v: int, min_angle: float) -> bool:
    """Does the road from v meet road ``ends[k]`` at ``at`` at least ``min_angle`` degrees?"""
    a, b = gr.ends[k]
    d, e = gr.pos(v) - at, gr.pos(b) - gr.pos(a)
    cos = abs(d @ e) / max(np.linalg.norm(d) * np.linalg.norm(e), 1e-12)
    return bool(np.degrees(np.arccos(np.clip(cos, 0, 1))) >= min_angle)
