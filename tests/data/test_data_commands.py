"""``introdl data list | fetch NAME | verify [NAME]``: exit codes and one-line errors."""

from __future__ import annotations

import pytest
from data_helpers import mnist_like, serve_as

from introdl.cli import main


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # keep rich tables on one line per row


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["data", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _row(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if f" {name} " in line)


def test_list_shows_every_dataset_and_where_it_is(capsys, server, monkeypatch, data_env):
    serve_as(monkeypatch, "mnist", mnist_like(), server.put)
    code, _, err = _cli(capsys, "list")
    assert code == 0
    for name in ("digits", "fashion-mnist", "mnist", "usps", "svhn", "cifar10"):
        assert f" {name} " in err
    assert "not here" in _row(err, "mnist") and "MD5" in _row(err, "usps")
    assert _cli(capsys, "fetch", "mnist")[0] == 0
    code, _, err = _cli(capsys, "list")
    assert code == 0 and str(data_env / "mnist") in _row(err, "mnist")
    assert server.requests and all("short" not in r for r in server.requests)


def test_fetch_downloads_verifies_and_loads(capsys, server, monkeypatch):
    serve_as(monkeypatch, "mnist", mnist_like(n_train=4, n_test=2), server.put)
    code, _, err = _cli(capsys, "fetch", "mnist")
    assert code == 0
    assert err.count("verified") == 4
    assert "mnist train: X (4, 28, 28) uint8" in err and "mnist test: X (2, 28, 28)" in err


def test_fetch_package_dataset_has_nothing_to_download(capsys):
    code, _, err = _cli(capsys, "fetch", "digits")
    assert code == 0 and "nothing to fetch" in err


def test_fetch_unknown_name_suggests_the_closest(capsys):
    code, _, err = _cli(capsys, "fetch", "cifar")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "unknown dataset 'cifar'" in err and "did you mean cifar10" in err


def test_fetch_network_error_is_one_line(capsys, monkeypatch, data_env):
    serve_as(monkeypatch, "mnist", mnist_like(), lambda f, d: f"http://127.0.0.1:9/{f}")
    code, _, err = _cli(capsys, "fetch", "mnist")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("introdl: error: could not download")
    assert "INTRODL_DATA/mnist/" in lines[0]
    assert not any(data_env.rglob("*.gz*"))


def test_verify_reports_ok_then_mismatch(capsys, server, monkeypatch, data_env):
    serve_as(monkeypatch, "mnist", mnist_like(), server.put)
    assert _cli(capsys, "fetch", "mnist")[0] == 0
    code, _, err = _cli(capsys, "verify", "mnist")
    assert code == 0 and err.count("OK") == 4 and "4 files verified" in err
    labels = data_env / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-1])  # damaged after download
    code, _, err = _cli(capsys, "verify", "mnist")
    assert code == 1
    assert "MISMATCH" in _row(err, "t10k-labels-idx1-ubyte.gz")
    assert "1 of 4 files failed their checksum" in err
    assert _cli(capsys, "verify")[0] == 1  # every dataset: still the bad file


def test_verify_checks_the_mirror_too(capsys, tmp_path, monkeypatch):
    files = mnist_like()
    mirror = tmp_path / "mirror" / "mnist"
    mirror.mkdir(parents=True)
    serve_as(monkeypatch, "mnist", files, lambda f, d: (mirror / f).write_bytes(d) and "unused")
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path / "mirror"))
    code, _, err = _cli(capsys, "verify", "mnist")
    assert code == 0 and "mirror" in err
    (mirror / "train-images-idx3-ubyte.gz").write_bytes(b"not the file")
    assert _cli(capsys, "verify", "mnist")[0] == 1


def test_verify_with_nothing_downloaded_passes(capsys, monkeypatch):
    code, _, err = _cli(capsys, "verify", "svhn")
    assert code == 0 and "not here" in err and "no local files to verify" in err
    assert _cli(capsys, "verify", "svhm")[0] == 2
