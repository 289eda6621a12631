"""Registered datasets load through the real fetch path, pointed at files the tests serve."""

from __future__ import annotations

import bz2
import dataclasses
import io
import tarfile

import numpy as np
import pytest
from data_helpers import mnist_like, serve_as
from rich.console import Console

from introdl.data import DATASETS, load_arrays, register
from introdl.data.registry import FASHION_SYSTEM_DIR
from introdl.errors import DataUnavailable, UsageError

QUIET = Console(quiet=True)


def test_mnist_downloads_over_http_and_loads(server, monkeypatch, data_env):
    files = mnist_like()
    serve_as(monkeypatch, "mnist", files, server.put)
    X, y = load_arrays("mnist", "train")
    assert X.shape == (5, 28, 28) and X.dtype == np.uint8 and y.dtype == np.int64
    assert (data_env / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    Xt, _ = load_arrays("mnist", "test")
    assert Xt.shape == (3, 28, 28)
    n = len(server.requests)
    load_arrays("mnist", "train")  # second load: cache only
    assert len(server.requests) == n == 4


def test_fashion_mnist_falls_back_to_mirror_without_debian(tmp_path, monkeypatch):
    files = mnist_like()
    mirror = tmp_path / "mirror" / "fashion-mnist"
    mirror.mkdir(parents=True)
    serve_as(monkeypatch, "fashion-mnist", files,
             lambda f, d: (mirror / f).write_bytes(d) and "http://127.0.0.1:9/unused")
    spec = DATASETS["fashion-mnist"]
    monkeypatch.setitem(DATASETS, "fashion-mnist",
                        dataclasses.replace(spec, system_dir=tmp_path / "no-debian"))
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path / "mirror"))
    X, y = load_arrays("fashion-mnist", "test")
    assert X.shape == (3, 28, 28) and y.shape == (3,)


def test_fashion_mnist_offline_without_debian_says_apt_get(tmp_path, monkeypatch):
    spec = DATASETS["fashion-mnist"]
    monkeypatch.setitem(DATASETS, "fashion-mnist",
                        dataclasses.replace(spec, system_dir=tmp_path / "no-debian"))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="apt-get install dataset-fashion-mnist") as e:
        load_arrays("fashion-mnist", "train")
    assert "introdl data fetch fashion-mnist" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.skipif(not FASHION_SYSTEM_DIR.is_dir(), reason="Debian's dataset-fashion-mnist "
                    "is not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_from_debian_keeps_its_conventions(data_env):
    X, y = load_arrays("fashion-mnist", "test")
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [1000] * 10
    assert not data_env.exists()  # nothing copied into the cache


def test_usps_and_svhn_through_the_fetch_path(server, tmp_path, monkeypatch):
    from scipy.io import savemat

    row = "3 " + " ".join(f"{i}:0.0" for i in range(1, 257)) + "\n"
    usps = bz2.compress(row.encode() * 2)
    serve_as(monkeypatch, "usps", {"train": ("usps.bz2", usps), "test": ("usps.t.bz2", usps)},
             server.put)
    X, y = load_arrays("usps", "test")
    assert X.shape == (2, 16, 16) and y.tolist() == [2, 2]

    buf = io.BytesIO()
    savemat(buf, {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": np.array([[10], [4]])})
    mat = buf.getvalue()
    src = tmp_path / "src"
    src.mkdir()
    serve_as(monkeypatch, "svhn",
             {"train": ("train_32x32.mat", mat), "test": ("test_32x32.mat", mat)},
             lambda f, d: ((src / f).write_bytes(d), (src / f).as_uri())[1])  # file:// URLs
    X, y = load_arrays("svhn", "train")
    assert X.shape == (2, 32, 32, 3) and y.tolist() == [0, 4]


def test_cifar10_archive_is_fetched_verified_and_extracted(server, monkeypatch, data_env):
    rec = lambda label: bytes([label]) + bytes(3072)  # noqa: E731
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in [(f"data_batch_{i}.bin", rec(i) * 2) for i in range(1, 6)] + [
                ("test_batch.bin", rec(9))]:
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    serve_as(monkeypatch, "cifar10", {"archive": ("cifar-10-binary.tar.gz", buf.getvalue())},
             server.put)
    X, y = load_arrays("cifar10", "train")
    assert X.shape == (10, 32, 32, 3) and y.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    Xt, yt = load_arrays("cifar10", "test")
    assert Xt.shape == (1, 32, 32, 3) and yt.tolist() == [9]
    assert (data_env / "cifar10" / "extracted" / "cifar-10-batches-bin").is_dir()


def test_registry_rejects_unknown_names_and_splits(monkeypatch):
    with pytest.raises(UsageError, match="did you mean mnist"):
        load_arrays("mnsit")
    with pytest.raises(UsageError, match="unknown split"):
        load_arrays("digits", "validation")
    monkeypatch.setitem(DATASETS, "corpus", DATASETS["digits"])  # restored after the test
    register(dataclasses.replace(DATASETS["digits"], name="corpus", load=None))
    with pytest.raises(UsageError, match="ensure_file"):
        load_arrays("corpus")


def test_digits_conventions_unchanged():
    X, y = load_arrays("digits", "train")
    assert X.shape[1:] == (8, 8) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 16
    assert y.dtype == np.int64 and len(X) + len(load_arrays("digits", "test")[0]) == 1797
