"""The dataset registry: each name, where its files come from, and how to load them.

Sources: ``package`` (shipped by a dependency), ``system`` (installed by the OS
package manager), ``download`` (mirror -> cache -> network, see :mod:`.download`).
Other modules add datasets with :func:`register`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from introdl.config import closest
from introdl.data import sources
from introdl.data.download import RemoteFile, cache_dir, ensure_file, extract_tar
from introdl.data.formats import read_cifar_binary, read_svhn, read_usps
from introdl.data.idx import read_idx
from introdl.errors import DataUnavailable, UsageError

SPLITS = ("train", "test")
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
Arrays = tuple[np.ndarray, np.ndarray]
T = TypeVar("T")


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset.

    Args:
        name: what users type (``introdl data fetch NAME``); also the mirror/cache folder.
        description: one line for ``introdl data list``.
        source: "package" | "system" | "download" (``system_dir`` falls back to download)
            | "generated" (made on use from a stated model, see the loader's docstring).
        load: split -> (X, y); None for datasets that are files, not arrays (use ensure_file).
        files: the downloadable files by role ("train-images", "test", ...), with checksums.
        system_dir: where the OS package puts the files, when there is one.
        install_hint: how to get it from the OS package manager.
        provider: for "package" and "generated": what ships or makes it (shown by ``data list``).
    """

    name: str
    description: str
    source: str
    load: Callable[[str], Arrays] | None
    files: Mapping[str, RemoteFile] = field(default_factory=dict)
    system_dir: Path | None = None
    install_hint: str = ""
    provider: str = "scikit-learn"

    def system_files(self) -> list[Path]:
        """The system copies of ``files`` if every one is installed, else []."""
        if self.system_dir is None:
            return []
        paths = [self.system_dir / f.filename for f in self.files.values()]
        return paths if all(p.is_file() for p in paths) else []


DATASETS: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add (or replace) a dataset, e.g. a helper's corpus file: it then shows in ``data list``."""
    DATASETS[spec.name] = spec
    return spec


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}{closest(name, list(DATASETS))}; "
                         "run 'introdl data list' to see them")
    return DATASETS[name]


def load_arrays(name: str, split: str = "train") -> Arrays:
    """``(X, y)`` for a named dataset's split; raises DataUnavailable when it is not here."""
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    spec = get_spec(name)
    if spec.load is None:
        raise UsageError(f"dataset {name!r} is a file, not arrays; "
                         "use introdl.data.download.ensure_file")
    return spec.load(split)


def _digits(split: str) -> Arrays:
    """scikit-learn's 1,797 8x8 digits, split 75/25 with a fixed, stratified seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X, y = d.images.astype(np.float32), d.target.astype(np.int64)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return (Xtr, ytr) if split == "train" else (Xte, yte)


def _fetch(name: str, key: str) -> Path:
    """The verified local path of one of ``name``'s files: system, mirror, cache or download."""
    spec = DATASETS[name]
    remote = spec.files[key]
    if spec.system_dir is not None and (spec.system_dir / remote.filename).is_file():
        return spec.system_dir / remote.filename  # installed and checked by the package manager
    try:
        return ensure_file(name, remote)
    except DataUnavailable as e:
        if spec.install_hint:
            raise DataUnavailable(f"{e}, or '{spec.install_hint}'") from None
        raise


def _read(name: str, path: Path, reader: Callable[[Path], T]) -> T:
    """``reader(path)``; a damaged file (truncated gzip, bad format) is one line naming it.

    Downloads and mirror copies are checksummed before use, so in practice this catches
    the system package's files, which the package manager installed but nobody re-checks.
    """
    try:
        return reader(path)
    except (OSError, EOFError, ValueError, zlib.error) as e:  # gzip/bz2/IDX/.mat errors
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        spec = DATASETS[name]
        if spec.system_dir is not None and path.parent == spec.system_dir:
            todo = f"reinstall it ('{spec.install_hint} --reinstall')" if spec.install_hint \
                else "reinstall the system package that provides it"
        else:
            todo = f"delete it and run 'introdl data fetch {name}'"
        raise DataUnavailable(f"{path} is damaged or truncated ({why}); {todo}") from None


def _idx_loader(name: str) -> Callable[[str], Arrays]:
    def load(split: str) -> Arrays:
        X = _read(name, _fetch(name, f"{split}-images"), read_idx)
        y = _read(name, _fetch(name, f"{split}-labels"), read_idx).astype(np.int64)
        return X, y

    return load


def _usps(split: str) -> Arrays:
    return _read("usps", _fetch("usps", split), read_usps)


def _svhn(split: str) -> Arrays:
    return _read("svhn", _fetch("svhn", split), read_svhn)


def _cifar10(split: str) -> Arrays:
    # Extracted from the archive only after ensure_file verified its SHA-256.
    folder = extract_tar(_fetch("cifar10", "archive"), cache_dir() / "cifar10" / "extracted")
    batches = folder / "cifar-10-batches-bin"
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    return _read("cifar10", batches, lambda b: read_cifar_binary(b / n for n in names))


register(DatasetSpec("digits", "scikit-learn's 8x8 handwritten digits (1,797 images)",
                     "package", _digits))
register(DatasetSpec(
    "fashion-mnist", "Zalando's Fashion-MNIST: 70,000 28x28 clothing images, 10 classes",
    "system", _idx_loader("fashion-mnist"), sources.FASHION_MNIST,
    system_dir=FASHION_SYSTEM_DIR, install_hint="apt-get install dataset-fashion-mnist"))
register(DatasetSpec("mnist", "LeCun's MNIST: 70,000 28x28 handwritten digits",
                     "download", _idx_loader("mnist"), sources.MNIST))
register(DatasetSpec("usps", "USPS handwritten digits: 9,298 16x16 images (labels 1..10 -> 0..9)",
                     "download", _usps, sources.USPS))
register(DatasetSpec("svhn", "Street View House Numbers, cropped: 99,289 32x32 RGB digits",
                     "download", _svhn, sources.SVHN))
register(DatasetSpec("cifar10", "CIFAR-10: 60,000 32x32 RGB images, 10 classes",
                     "download", _cifar10, sources.CIFAR10))
