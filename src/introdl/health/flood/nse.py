"""Nash-Sutcliffe efficiency: the hydrologists' skill score for a simulated hydrograph.

``NSE = 1 - sum((obs - sim)^2) / sum((obs - mean(obs))^2)``: 1 for a perfect forecast, 0 for
forecasting the observed mean every day, negative when worse than that mean. Written here so
the formula is visible; tests compare it with ``spotpy.objectivefunctions.nashsutcliffe``.
"""

from __future__ import annotations

import numpy as np


def nse(observed, simulated) -> float:
    """Nash-Sutcliffe efficiency of ``simulated`` against ``observed`` (same length, no NaN)."""
    o = np.asarray(observed, dtype=float)
    s = np.asarray(simulated, dtype=float)
    if o.shape != s.shape:
        raise ValueError(f"observed {o.shape} and simulated {s.shape} differ in shape")
    denom = np.sum((o - o.mean()) ** 2)
    if denom == 0:
        raise ValueError("observed series is constant: NSE is undefined")
    return float(1 - np.sum((o - s) ** 2) / denom)
