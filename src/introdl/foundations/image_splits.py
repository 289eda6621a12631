"""Image data sets as train / validation / test tensors for Lecture 1's dense networks.

The lecture trains on the training set, watches a held-out validation set to
decide when to stop ("Regularization II: early stopping"), and reports the test
set only at the end. :func:`image_splits` carves the validation set out of the
training split with a seeded permutation, so the test split stays untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import TensorDataset

from introdl.data import load_arrays
from introdl.errors import UsageError

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_PIXEL_MAX = {"digits": 16.0}  # everything else is uint8, 0..255


@dataclass
class ImageSplits:
    """Three ``TensorDataset``s of ``(x, y)``: x float32 (N, H, W) in [0, 1], y int64 (N,)."""

    train: TensorDataset
    val: TensorDataset | None
    test: TensorDataset

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.train.tensors[0].shape[1:])

    @property
    def in_features(self) -> int:
        return int(np.prod(self.image_shape))


def _tensors(X: np.ndarray, y: np.ndarray, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    scale = _PIXEL_MAX.get(name, 255.0)
    return torch.from_numpy(X.astype(np.float32) / scale), torch.from_numpy(y.astype(np.int64))


def image_splits(
    name: str,
    *,
    n_train: int | None = None,
    n_val: int = 0,
    n_test: int | None = None,
    seed: int = 0,
) -> ImageSplits:
    """Load ``name`` and split its training split into train and validation.

    Args:
        name: a dataset from :mod:`introdl.data` (e.g. ``digits``, ``fashion-mnist``).
        n_train: training examples to keep (after the validation set is taken);
            ``None`` keeps the rest.
        n_val: validation examples taken from the training split (0: no validation set).
        n_test: test examples to keep (a seeded random subset); ``None`` keeps all.
        seed: seeds the permutations, so the same call gives the same split.

    Raises:
        UsageError: a negative size, sizes that do not fit the data (naming the key and
            how many images there are), or no training images left.
    """
    for key, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if n is not None and n < 0:
            raise UsageError(f"--set {key}={n} is out of range: must be 0 or more")
    Xtr, ytr = load_arrays(name, "train")
    Xte, yte = load_arrays(name, "test")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(Xtr))
    need = n_val + (n_train or 0)
    if need > len(Xtr):
        raise UsageError(f"{name} has {len(Xtr)} training images but n_val + n_train = {need}; "
                         "ask for fewer")
    if (n_train if n_train is not None else len(Xtr) - n_val) < 1:
        raise UsageError(f"--set n_train={n_train if n_train is not None else 'none'}, "
                         f"n_val={n_val}: no training images left of {name}'s {len(Xtr)}; "
                         "ask for at least 1")
    if n_test is not None and not 1 <= n_test <= len(Xte):
        raise UsageError(f"--set n_test={n_test} is out of range: {name} has {len(Xte)} test "
                         f"images; ask for 1 to {len(Xte)}")
    val_idx = order[:n_val]
    train_idx = order[n_val:] if n_train is None else order[n_val:n_val + n_train]
    if n_test is not None and n_test < len(Xte):
        keep = rng.permutation(len(Xte))[:n_test]
        Xte, yte = Xte[keep], yte[keep]
    return ImageSplits(
        train=TensorDataset(*_tensors(Xtr[train_idx], ytr[train_idx], name)),
        val=TensorDataset(*_tensors(Xtr[val_idx], ytr[val_idx], name)) if n_val else None,
        test=TensorDataset(*_tensors(Xte, yte, name)),
    )
