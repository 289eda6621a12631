"""Lecture 12 experiments, one module each.

Importing this package registers the real MedMNIST files as datasets, so ``introdl data
list`` and ``introdl data fetch retinamnist`` know them (the experiments read them only
with ``--set data=...``).
"""

from introdl.health import medmnist as _medmnist  # noqa: F401  (registers the datasets)
