"""Procedural terrains: a sloping, meandering valley with a carved river channel and rough floor.

Generative model of one DEM (``size`` x ``size`` cells, elevation in metres, cell size
``CELL_M`` = 10 m; the river flows from the left edge, column 0, to the right edge):

- down-valley slope ``s ~ U(0.01, 0.04)`` m per cell: ``z = s * (size - 1 - x)``;
- a meandering valley axis ``yc(x) = size/2 + A sin(2 pi x / lam + phi)`` with
  ``A ~ U(0, size/6)``, ``lam ~ U(size, 2 size)``, ``phi ~ U(0, 2 pi)``;
- V-shaped valley sides rising ``k ~ U(0.05, 0.25)`` m per cell away from the axis;
- rough floodplain: white noise smoothed by a Gaussian (sigma ``U(1.5, 3)`` cells), rescaled
  to standard deviation ``r ~ U(0.1, 0.6)`` m (levees, hollows and ridges that hold or
  block water);
- a river channel ``c ~ U(0.5, 1.5)`` m deep, 1-3 cells wide, carved along the axis.

The inflow enters at the channel cell of the upstream edge (column 0). ``roughness``
(``r``'s range) is stated so a test can check it changes the data as stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

CELL_M = 10.0  # cell size, metres


@dataclass
class Terrains:
    dem: np.ndarray  # (n, size, size) elevation, metres
    inflow_row: np.ndarray  # (n,) row of the inflow cell (column 0)


def make_terrains(n: int, size: int, seed: int | np.random.Generator,
                  roughness: tuple[float, float] = (0.1, 0.6)) -> Terrains:
    """``n`` DEMs from the stated generative model; the same seed gives the same terrains."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(float)
    dems, rows = [], []
    for _ in range(n):
        slope = rng.uniform(0.01, 0.04)
        amp = rng.uniform(0, size / 6)
        lam = rng.uniform(size, 2 * size)
        phi = rng.uniform(0, 2 * np.pi)
        side = rng.uniform(0.05, 0.25)
        axis = size / 2 + amp * np.sin(2 * np.pi * x / lam + phi)
        dist = np.abs(y - axis)
        z = slope * (size - 1 - x) + side * dist
        noise = gaussian_filter(rng.standard_normal((size, size)), rng.uniform(1.5, 3),
                                mode="reflect")
        z += rng.uniform(*roughness) * noise / noise.std()
        half_width = rng.uniform(0.5, 1.5)
        z -= rng.uniform(0.5, 1.5) * (dist <= half_width)
        dems.append(z)
        rows.append(int(np.argmin(z[:, 0])))  # the channel cell on the upstream edge
    return Terrains(dem=np.stack(dems), inflow_row=np.array(rows))
