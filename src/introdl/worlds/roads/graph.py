"""The road-graph representation shared by the OSM loader, the procedural cities and the model.

A road graph is an undirected ``networkx.Graph`` with integer node ids. Each node has
``pos`` (x, y) in metres; each edge has ``coords`` (a (k, 2) polyline from one end to the
other, k >= 2, in either direction) and ``length`` (the polyline's length in metres).

Three operations act on it:

- :func:`simplify`: contract degree-2 nodes into polylines, so nodes are intersections and
  dead ends (degree != 2). Total length and the degree != 2 nodes are kept exactly; a degree-2
  node is kept only where contracting would create a self-loop or a parallel edge (which a
  simple graph cannot hold).
- :func:`resample`: the reverse, for the model: every polyline is cut into equal straight
  steps no longer than ``step`` metres (the turtle's moves).
- :func:`crop`: the subgraph whose nodes lie in an axis-aligned window.
"""

from __future__ import annotations

import networkx as nx
import numpy as np


def polyline_length(coords: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(coords, axis=0), axis=1).sum())


def add_road(g: nx.Graph, u: int, v: int, coords: np.ndarray | None = None) -> None:
    """Add edge (u, v) with its polyline (a straight segment when ``coords`` is None)."""
    if coords is None:
        coords = np.array([g.nodes[u]["pos"], g.nodes[v]["pos"]], dtype=float)
    coords = np.asarray(coords, dtype=float)
    g.add_edge(u, v, coords=coords, length=polyline_length(coords))


def edge_coords(g: nx.Graph, u: int, v: int) -> np.ndarray:
    """The edge's polyline oriented from u to v."""
    c = g.edges[u, v]["coords"]
    pu = np.asarray(g.nodes[u]["pos"])
    return c if np.sum((c[0] - pu) ** 2) <= np.sum((c[-1] - pu) ** 2) else c[::-1]


def positions(g: nx.Graph) -> tuple[list[int], np.ndarray]:
    nodes = list(g.nodes)
    return nodes, np.array([g.nodes[n]["pos"] for n in nodes], dtype=float).reshape(-1, 2)


def total_length(g: nx.Graph) -> float:
    return float(sum(d["length"] for _, _, d in g.edges(data=True)))


def simplify(g: nx.Graph) -> nx.Graph:
    """Contract chains of degree-2 nodes into single edges carrying the whole polyline."""
    out = nx.Graph()
    keep = {n for n in g.nodes if g.degree(n) != 2}
    for n in keep:
        out.add_node(n, pos=g.nodes[n]["pos"])
    done: set[frozenset] = set()

    def walk(start: int, nxt: int) -> list[int]:
        chain = [start, nxt]
        while chain[-1] not in keep and chain[-1] != start:
            a, b = chain[-2], chain[-1]
            chain.append(next(w for w in g.neighbors(b) if w != a))
        return chain

    def emit(chain: list[int]) -> None:
        # a chain from one kept node to another; split it at a middle node where needed
        u, v = chain[0], chain[-1]
        if u == v:  # a loop: cut it in three (a simple graph holds no self-loop or pair)
            i, j = len(chain) // 3, 2 * len(chain) // 3
            for m in (chain[i], chain[j]):
                keep.add(m)
                out.add_node(m, pos=g.nodes[m]["pos"])
            for part in (chain[: i + 1], chain[i: j + 1], chain[j:]):
                emit(part)
            return
        if len(chain) > 2 and out.has_edge(u, v):
            mid = chain[len(chain) // 2]
            keep.add(mid)
            out.add_node(mid, pos=g.nodes[mid]["pos"])
            emit(chain[: len(chain) // 2 + 1])
            emit(chain[len(chain) // 2:])
            return
        steps = zip(chain[:-1], chain[1:], strict=True)
        coords = np.concatenate([edge_coords(g, a, b)[(0 if i == 0 else 1):]
                                 for i, (a, b) in enumerate(steps)])
        add_road(out, u, v, coords)

    for u, w in g.edges:  # direct intersection-to-intersection edges first: never split
        if u in keep and w in keep:
            done.add(frozenset((u, w)))
            add_road(out, u, w, g.edges[u, w]["coords"])
    for u in list(keep):
        for w in g.neighbors(u):
            if frozenset((u, w)) in done:
                continue
            chain = walk(u, w)
            for a, b in zip(chain[:-1], chain[1:], strict=True):
                done.add(frozenset((a, b)))
            emit(chain)
    # pure cycles (every node of degree 2) have no kept node: keep one node per cycle
    for comp in nx.connected_components(g):
        if any(n in keep for n in comp):
            continue
        start = min(comp)
        keep.add(start)
        out.add_node(start, pos=g.nodes[start]["pos"])
        emit(walk(start, next(iter(g.neighbors(start)))))
    return out


def resample(g: nx.Graph, step: float) -> nx.Graph:
    """Cut every polyline into equal straight steps of at most ``step`` metres."""
    out = nx.Graph()
    ids = {n: i for i, n in enumerate(g.nodes)}
    for n, i in ids.items():
        out.add_node(i, pos=np.asarray(g.nodes[n]["pos"], dtype=float))
    nid = len(ids)
    for u, v in g.edges:
        c = edge_coords(g, u, v)
        seg = np.linalg.norm(np.diff(c, axis=0), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        pieces = max(1, int(np.ceil(cum[-1] / step - 1e-9)))
        at = np.linspace(0, cum[-1], pieces + 1)[1:-1]
        pts = np.stack([np.interp(at, cum, c[:, 0]), np.interp(at, cum, c[:, 1])], axis=1)
        chain = [ids[u]]
        for p in pts:
            out.add_node(nid, pos=p)
            chain.append(nid)
            nid += 1
        chain.append(ids[v])
        for a, b in zip(chain[:-1], chain[1:], strict=True):
            if a != b and not out.has_edge(a, b):
                add_road(out, a, b)
    return out


def crop(g: nx.Graph, lo: tuple[float, float], hi: tuple[float, float],
         shift: bool = True) -> nx.Graph:
    """Nodes inside the window [lo, hi) and the edges between them; moved so lo is (0, 0)."""
    lo_, hi_ = np.asarray(lo, float), np.asarray(hi, float)
    inside = [n for n in g.nodes if np.all(np.asarray(g.nodes[n]["pos"]) >= lo_)
              and np.all(np.asarray(g.nodes[n]["pos"]) < hi_)]
    sub = nx.Graph(g.subgraph(inside))
    if shift:
        for n in sub.nodes:
            sub.nodes[n]["pos"] = np.asarray(sub.nodes[n]["pos"], float) - lo_
        for u, v in sub.edges:
            sub.edges[u, v]["coords"] = sub.edges[u, v]["coords"] - lo_
    return sub


def relabel(g: nx.Graph) -> nx.Graph:
    return nx.convert_node_labels_to_integers(g)
