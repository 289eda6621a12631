"""Readers for the on-disk formats of the downloaded datasets (IDX lives in :mod:`.idx`).

Each returns ``(X, y)``: images ``uint8`` (N, H, W) or (N, H, W, C), labels ``int64`` 0..9.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

CIFAR_RECORD = 1 + 3 * 32 * 32  # one label byte, then 1024 red, 1024 green, 1024 blue


def read_usps(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """USPS from LIBSVM's ``usps[.t].bz2``: lines ``label 1:v ... 256:v``, v in [-1, 1].

    Labels are 1..10. As torchvision does, pixels map to ``uint8`` as ``(v + 1) / 2 * 255``
    (truncated) and labels to 0..9 by subtracting 1.
    """
    from sklearn.datasets import load_svmlight_file  # reads .bz2 by its suffix

    X, y = load_svmlight_file(os.fspath(path), n_features=256, dtype=np.float32)
    images = X.toarray().reshape(-1, 16, 16)  # (N, 256) -> (N, 16, 16), row-major pixels
    images = ((images + 1) / 2 * 255).astype(np.uint8)
    labels = y.astype(np.int64) - 1
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: USPS labels must lie in 1..10")
    return images, labels


def read_svhn(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """SVHN cropped digits, ``{train,test}_32x32.mat``: X (32, 32, 3, N), y (N, 1), 10 meaning 0."""
    from scipy.io import loadmat

    mat = loadmat(os.fspath(path))
    X = np.ascontiguousarray(np.transpose(mat["X"], (3, 0, 1, 2)))  # (H, W, C, N) -> (N, H, W, C)
    y = mat["y"].reshape(-1).astype(np.int64)
    y[y == 10] = 0  # the Stanford files write digit 0 as label 10
    return X.astype(np.uint8, copy=False), y


def read_cifar_binary(paths: Iterable[str | os.PathLike]) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 "binary version" batches: records of 1 label byte + 3072 pixel bytes (CHW).

    The binary version is plain bytes, so no pickle is ever loaded.
    """
    images, labels = [], []
    for p in paths:
        raw = np.fromfile(p, dtype=np.uint8)
        if raw.size % CIFAR_RECORD:
            raise ValueError(f"{p}: size {raw.size} is not a whole number of CIFAR records")
        rec = raw.reshape(-1, CIFAR_RECORD)
        labels.append(rec[:, 0].astype(np.int64))
        # (N, 3072) -> (N, 3, 32, 32) -> (N, 32, 32, 3)
        images.append(rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)
