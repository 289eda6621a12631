"""MedMNIST files: read verified from the mirror, refused in one line when missing or wrong."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from introdl.data.download import RemoteFile
from introdl.errors import DataUnavailable
from introdl.health.medmnist import FILES, load_medmnist, remote


def _fake(folder, name="tinymnist", keys=("train", "val", "test")):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {}
    for i, s in enumerate(keys):
        arrays[f"{s}_images"] = rng.integers(0, 256, (4 + i, 28, 28), dtype=np.uint8)
        arrays[f"{s}_labels"] = rng.integers(0, 5, (4 + i, 1), dtype=np.uint8)
    path = folder / f"{name}.npz"
    np.savez(path, **arrays)
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    return arrays, RemoteFile(url="file:///nowhere", sha256=None, md5=md5, filename=path.name)


def test_reads_a_verified_mirror_file(tmp_path, monkeypatch):
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    arrays, file = _fake(tmp_path / "tinymnist")
    d = load_medmnist("tinymnist", file)
    assert d.x_train.shape == (4, 28, 28) and d.x_test.shape == (6, 28, 28)
    assert np.array_equal(d.x_val, arrays["val_images"])
    assert d.y_test.dtype == np.int64 and d.y_test.shape == (6,)
    assert np.array_equal(d.y_train, arrays["train_labels"][:, 0])


def test_wrong_checksum_and_missing_keys_are_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    _, file = _fake(tmp_path / "tinymnist")
    bad = RemoteFile(url=file.url, sha256=None, md5="0" * 32, filename=file.filename)
    with pytest.raises(DataUnavailable, match="checksum") as e:
        load_medmnist("tinymnist", bad)
    assert "\n" not in str(e.value)
    _, file = _fake(tmp_path / "partial", name="partial", keys=("train", "test"))
    with pytest.raises(DataUnavailable, match="not a MedMNIST file"):
        load_medmnist("partial", file)


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match=r"\$INTRODL_DATA/retinamnist/") as e:
        load_medmnist("retinamnist")
    assert "\n" not in str(e.value)
    with pytest.raises(DataUnavailable, match="unknown MedMNIST"):
        remote("notamnist")
    assert all(len(md5) == 32 for md5, _ in FILES.values())


def test_the_files_are_datasets_once_the_experiments_are_loaded():
    from introdl.data.registry import DATASETS
    from introdl.experiment import load_all

    load_all()
    for name in FILES:
        assert DATASETS[name].source == "download"
        assert DATASETS[name].files["npz"].md5 == FILES[name][0]
