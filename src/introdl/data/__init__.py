"""Named datasets: shipped by a dependency, installed by the system, or downloaded and verified.

``load_arrays(name, split)`` returns ``(X, y)`` NumPy arrays:

- images as ``uint8`` (N, H, W) or (N, H, W, C) — except ``digits``, float (N, 8, 8) in 0..16;
- labels as ``int64`` (N,).

See :mod:`introdl.data.registry` for the list and where each comes from, and
:mod:`introdl.data.download` for ``RemoteFile`` / ``ensure_file`` (mirror -> cache ->
verified download), which other modules use for their own files.
"""

from introdl.data.download import RemoteFile, ensure_file
from introdl.data.registry import DATASETS, DatasetSpec, load_arrays, register

__all__ = ["DATASETS", "DatasetSpec", "RemoteFile", "ensure_file", "load_arrays", "register"]
