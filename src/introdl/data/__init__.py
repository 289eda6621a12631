"""Named datasets: shipped by a dependency, installed by the system, or downloaded and verified.

``load_arrays(name, split)`` returns ``(X, y)`` NumPy arrays:

- images as ``uint8`` (N, H, W) or (N, H, W, C) — except ``digits``, float (N, 8, 8) in 0..16;
- labels as ``int64`` (N,).

See :mod:`introdl.data.registry` for the list and where each comes from.
"""

from introdl.data.registry import DATASETS, load_arrays

__all__ = ["DATASETS", "load_arrays"]
