"""Data faults: a truncated system file, and INTRODL_OFFLINE=1 with ``introdl data fetch``."""

from __future__ import annotations

import dataclasses

import pytest
from data_helpers import mnist_like, serve_as

from introdl.cli import main
from introdl.data import DATASETS, load_arrays
from introdl.errors import DataUnavailable


def _system_copy(tmp_path, monkeypatch, cut: str):
    """fashion-mnist 'installed by the system' in tmp_path, with file ``cut`` truncated."""
    system = tmp_path / "system"
    system.mkdir()
    for filename, data in mnist_like().values():  # the same four file names as Fashion-MNIST
        (system / filename).write_bytes(data[: len(data) // 2] if filename == cut else data)
    spec = DATASETS["fashion-mnist"]
    monkeypatch.setitem(DATASETS, "fashion-mnist", dataclasses.replace(spec, system_dir=system))
    return system / cut


def test_truncated_gz_in_the_system_folder_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    bad = _system_copy(tmp_path, monkeypatch, "train-images-idx3-ubyte.gz")
    assert load_arrays("fashion-mnist", "test")[0].shape == (3, 28, 28)  # the others are fine
    with pytest.raises(DataUnavailable) as e:
        load_arrays("fashion-mnist", "train")
    msg = str(e.value)
    assert str(bad) in msg and "damaged or truncated" in msg and "\n" not in msg
    assert "apt-get install dataset-fashion-mnist --reinstall" in msg
    assert main(["data", "fetch", "fashion-mnist"]) == 2
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if line.startswith("introdl: error:")]
    assert "Traceback" not in err and len(errors) == 1 and str(bad) in errors[0]


def test_offline_fetch_never_touches_the_network(capsys, server, monkeypatch, data_env):
    serve_as(monkeypatch, "mnist", mnist_like(), server.put)
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    assert main(["data", "fetch", "mnist"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "INTRODL_OFFLINE=1 forbids downloads" in err and "INTRODL_DATA/mnist/" in err
    assert server.requests == []  # not one request
    assert not data_env.exists() or not any(data_env.rglob("*"))
    monkeypatch.delenv("INTRODL_OFFLINE")
    assert main(["data", "fetch", "mnist"]) == 0 and server.requests  # online: it downloads
