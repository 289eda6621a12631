"""Readers for IDX, USPS (LIBSVM), SVHN (.mat) and CIFAR-10 (binary) on files written by hand."""

from __future__ import annotations

import bz2
import gzip

import numpy as np
import pytest
from data_helpers import idx_bytes

from introdl.data.formats import read_cifar_binary, read_svhn, read_usps
from introdl.data.idx import read_idx


def test_idx_reader_matches_hand_written_bytes(tmp_path):
    # 2 images of 2x3, written byte by byte: magic 0 0 8 3, dims 2 2 3 (big-endian uint32).
    raw = bytes([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(12))
    (tmp_path / "x.idx").write_bytes(raw)
    (tmp_path / "x.idx.gz").write_bytes(gzip.compress(raw))
    want = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    for name in ("x.idx", "x.idx.gz"):
        got = read_idx(tmp_path / name)
        assert got.dtype == np.uint8 and np.array_equal(got, want)


def test_idx_reader_big_endian_ints(tmp_path):
    raw = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + (258).to_bytes(4, "big") + (-1).to_bytes(4, "big",
                                                                                      signed=True)
    (tmp_path / "i.idx").write_bytes(raw)
    assert read_idx(tmp_path / "i.idx").tolist() == [258, -1]


def test_idx_reader_rejects_truncated_and_foreign_files(tmp_path):
    (tmp_path / "short.idx").write_bytes(idx_bytes(np.zeros((2, 4, 4), np.uint8))[:-5])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short.idx")
    (tmp_path / "png.idx").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="not an IDX"):
        read_idx(tmp_path / "png.idx")


def test_usps_reader_scales_pixels_and_shifts_labels(tmp_path):
    first = [-1.0, 0.0, 1.0, 0.5] + [-1.0] * 252
    lines = ["1 " + " ".join(f"{i}:{v}" for i, v in enumerate(first, 1)),
             "10 " + " ".join(f"{i}:1" for i in range(1, 257))]
    path = tmp_path / "usps.bz2"
    path.write_bytes(bz2.compress(("\n".join(lines) + "\n").encode()))
    X, y = read_usps(path)
    assert X.shape == (2, 16, 16) and X.dtype == np.uint8
    assert y.tolist() == [0, 9] and y.dtype == np.int64
    assert X[0, 0, :4].tolist() == [0, 127, 255, 191]  # (v + 1) / 2 * 255, truncated
    assert (X[1] == 255).all()


def test_usps_reader_agrees_with_torchvision(tmp_path):
    from torchvision.datasets import USPS

    rng = np.random.default_rng(1)
    rows = [f"{label} " + " ".join(f"{i}:{v:.6f}" for i, v in enumerate(px, 1))
            for label, px in zip(rng.integers(1, 11, 5), rng.uniform(-1, 1, (5, 256)),
                                 strict=True)]
    (tmp_path / "usps.bz2").write_bytes(bz2.compress(("\n".join(rows) + "\n").encode()))
    X, y = read_usps(tmp_path / "usps.bz2")
    ref = USPS(str(tmp_path), train=True, download=False)
    assert np.array_equal(X, ref.data) and y.tolist() == list(ref.targets)


def test_svhn_reader_moves_batch_first_and_maps_10_to_0(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(32, 32, 3, 4), dtype=np.uint8)  # the file's (H, W, C, N)
    savemat(tmp_path / "s.mat", {"X": X, "y": np.array([[10], [1], [9], [10]], np.uint8)})
    Xs, ys = read_svhn(tmp_path / "s.mat")
    assert Xs.shape == (4, 32, 32, 3) and Xs.dtype == np.uint8
    assert np.array_equal(Xs[2], X[:, :, :, 2])
    assert ys.tolist() == [0, 1, 9, 0] and ys.dtype == np.int64


def test_cifar_binary_reader_decodes_label_and_chw_pixels(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(3, 32, 32), dtype=np.uint8)  # stored channel-first
    rec = np.concatenate([[7], img.ravel()]).astype(np.uint8)
    (tmp_path / "b1.bin").write_bytes(rec.tobytes() * 2)
    (tmp_path / "b2.bin").write_bytes(rec.tobytes())
    X, y = read_cifar_binary([tmp_path / "b1.bin", tmp_path / "b2.bin"])
    assert X.shape == (3, 32, 32, 3) and y.tolist() == [7, 7, 7]
    assert np.array_equal(X[1], img.transpose(1, 2, 0))
    (tmp_path / "bad.bin").write_bytes(rec.tobytes()[:-1])
    with pytest.raises(ValueError, match="whole number"):
        read_cifar_binary([tmp_path / "bad.bin"])
