"""Small builders for data tests: files in the formats the loaders read, written by hand."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def idx_bytes(arr: np.ndarray) -> bytes:
    """A uint8 array as an IDX file, written by hand: 0, 0, type 0x08, ndim, big-endian dims."""
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def idx_gz(arr: np.ndarray) -> bytes:
    return gzip.compress(idx_bytes(arr), mtime=0)
