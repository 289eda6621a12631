"""The dataset registry: each name, where its files come from, and how to load them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from introdl.config import closest
from introdl.data.idx import read_idx
from introdl.errors import DataUnavailable, UsageError

SPLITS = ("train", "test")
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    source: str  # "package" | "system" | "download"
    load: Callable[[str], tuple[np.ndarray, np.ndarray]]


def _digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8x8 digits, split 75/25 with a fixed, stratified seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X, y = d.images.astype(np.float32), d.target.astype(np.int64)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return (Xtr, ytr) if split == "train" else (Xte, yte)


def _fashion_system(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = _MNIST_FILES[split]
    if not (FASHION_SYSTEM_DIR / images).exists():
        raise DataUnavailable(
            f"Fashion-MNIST not found in {FASHION_SYSTEM_DIR}; install it with "
            "'apt-get install dataset-fashion-mnist'"
        )
    X = read_idx(FASHION_SYSTEM_DIR / images)
    y = read_idx(FASHION_SYSTEM_DIR / labels).astype(np.int64)
    return X, y


DATASETS: dict[str, DatasetSpec] = {
    "digits": DatasetSpec("digits", "scikit-learn's 8x8 handwritten digits (1,797 images)",
                          "package", _digits),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "Zalando's Fashion-MNIST, 70,000 28x28 clothing images, 10 classes",
        "system", _fashion_system),
}


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}{closest(name, list(DATASETS))}; "
                         "run 'introdl data list' to see them")
    return DATASETS[name]


def load_arrays(name: str, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` for a named dataset's split; raises DataUnavailable when it is not here."""
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    return get_spec(name).load(split)
