"""Small builders for data tests: files in the formats the loaders read, written by hand."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import struct

import numpy as np

from introdl.data import DATASETS, RemoteFile


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def idx_bytes(arr: np.ndarray) -> bytes:
    """A uint8 array as an IDX file, written by hand: 0, 0, type 0x08, ndim, big-endian dims."""
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def idx_gz(arr: np.ndarray) -> bytes:
    return gzip.compress(idx_bytes(arr), mtime=0)


RNG = np.random.default_rng(0)


def serve_as(monkeypatch, name: str, files: dict[str, tuple[str, bytes]], put) -> None:
    """Point ``name``'s files at the URLs ``put(filename, data)`` returns, with our SHA-256."""
    spec = DATASETS[name]
    remotes = {}
    for key, (filename, data) in files.items():
        assert spec.files[key].filename == filename  # the registered layout is what we serve
        remotes[key] = RemoteFile(put(filename, data), sha256(data), filename, len(data))
    monkeypatch.setitem(DATASETS, name, dataclasses.replace(spec, files=remotes))


def mnist_like(n_train: int = 5, n_test: int = 3) -> dict[str, tuple[str, bytes]]:
    out = {}
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        X = RNG.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = RNG.integers(0, 10, size=n, dtype=np.uint8)
        out[f"{split}-images"] = (f"{prefix}-images-idx3-ubyte.gz", idx_gz(X))
        out[f"{split}-labels"] = (f"{prefix}-labels-idx1-ubyte.gz", idx_gz(y))
    return out
