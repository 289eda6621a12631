"""A stated, mass-conserving flood simulator: water from a river inflow spreading over a DEM.

Scheme (an explicit "cellular automaton" diffusive-wave model on a grid, in the spirit of
LISFLOOD-FP's storage-cell models, kept deliberately simple). State: water depth ``h`` (m)
per cell; water surface ``eta = dem + h``. Each time step:

1. inflow: ``rate`` metres of water depth are added to the inflow cell (column 0);
2. exchange: from every cell to each of its 4 neighbours with a lower water surface, a flux
   ``k * min(eta_i - eta_j, h_i)`` (``k = 0.2`` <= 1/4, so a pair never overshoots
   equilibrium); a cell's outgoing fluxes are scaled down together when they would exceed
   its water, so depths stay >= 0. Each flux is subtracted from one cell and added to its
   neighbour, so exchange conserves water exactly (to float rounding);
3. outflow: the downstream edge (last column) drains ``k * h`` per step out of the domain
   (a free outfall); the other edges are walls.

Budget: ``inflow total = stored water + outflow total`` to float64 rounding (tested).
After ``steps`` steps the flooded map is ``h > depth_threshold`` (5 cm by default). Batched
over terrains with NumPy; the cost is ``steps`` full-grid updates per batch, which is what a
learned surrogate replaces with one forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K = 0.2


@dataclass
class FloodResult:
    depth: np.ndarray  # (n, H, W) metres
    inflow_total: np.ndarray  # (n,) water added, metres x cells
    outflow_total: np.ndarray  # (n,) water that left over the downstream edge

    def stored(self) -> np.ndarray:
        return self.depth.sum(axis=(1, 2))

    def flooded(self, depth_threshold: float = 0.05) -> np.ndarray:
        return self.depth > depth_threshold


def simulate(dem: np.ndarray, inflow_row: np.ndarray, rate: np.ndarray, steps: int,
             k: float = K) -> FloodResult:
    """Run the scheme on a batch of DEMs (n, H, W) with per-terrain inflow ``rate`` (m/step)."""
    dem = np.asarray(dem, dtype=np.float64)
    n = dem.shape[0]
    h = np.zeros_like(dem)
    rate = np.broadcast_to(np.asarray(rate, dtype=np.float64), (n,))
    idx = np.arange(n)
    rows = np.asarray(inflow_row)
    out_total = np.zeros(n)
    for _ in range(steps):
        h[idx, rows, 0] += rate
        eta = dem + h
        # fluxes to the east, west, south and north neighbour (0 across walls)
        fe = np.zeros_like(h)
        fw = np.zeros_like(h)
        fs = np.zeros_like(h)
        fn = np.zeros_like(h)
        fe[:, :, :-1] = np.minimum(np.maximum(eta[:, :, :-1] - eta[:, :, 1:], 0), h[:, :, :-1])
        fw[:, :, 1:] = np.minimum(np.maximum(eta[:, :, 1:] - eta[:, :, :-1], 0), h[:, :, 1:])
        fs[:, :-1] = np.minimum(np.maximum(eta[:, :-1] - eta[:, 1:], 0), h[:, :-1])
        fn[:, 1:] = np.minimum(np.maximum(eta[:, 1:] - eta[:, :-1], 0), h[:, 1:])
        drain = np.zeros_like(h)
        drain[:, :, -1] = h[:, :, -1]
        total = k * (fe + fw + fs + fn + drain)
        scale = np.where(total > h, h / np.where(total > 0, total, 1), 1.0) * k
        fe *= scale
        fw *= scale
        fs *= scale
        fn *= scale
        drain *= scale
        h -= fe + fw + fs + fn + drain
        h[:, :, 1:] += fe[:, :, :-1]
        h[:, :, :-1] += fw[:, :, 1:]
        h[:, 1:] += fs[:, :-1]
        h[:, :-1] += fn[:, 1:]
        out_total += drain.sum(axis=(1, 2))
        np.maximum(h, 0, out=h)  # clears -0.0 / 1e-18 rounding only (scaled fluxes <= h)
    return FloodResult(depth=h, inflow_total=rate * steps, outflow_total=out_total)
