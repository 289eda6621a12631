"""ensure_file: mirror -> cache -> verified download; bad bytes are reported and never kept."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest
from data_helpers import sha256
from rich.console import Console

from introdl.data.download import RemoteFile, ensure_file, extract_tar
from introdl.errors import DataUnavailable

PAYLOAD = b"introdl test payload\n" * 500
QUIET = Console(quiet=True)


def _remote(url: str, data: bytes = PAYLOAD, **kw) -> RemoteFile:
    kw.setdefault("size", len(data))
    return RemoteFile(url, kw.pop("sha256", sha256(data)), "payload.bin", **kw)


def _leftovers(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_http_download_is_verified_and_cached(server, data_env):
    path = ensure_file("toy", _remote(server.put("payload.bin", PAYLOAD)), console=QUIET)
    assert path == data_env / "toy" / "payload.bin"
    assert path.read_bytes() == PAYLOAD
    assert _leftovers(data_env) == ["payload.bin"]  # no .part file left behind


def test_file_url_download(tmp_path, data_env):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    path = ensure_file("toy", _remote(src.as_uri()), console=QUIET)
    assert path.read_bytes() == PAYLOAD


def test_cache_hit_does_not_touch_the_network(server):
    remote = _remote(server.put("payload.bin", PAYLOAD))
    first = ensure_file("toy", remote, console=QUIET)
    assert len(server.requests) == 1
    assert ensure_file("toy", remote, console=QUIET) == first
    assert ensure_file("toy", remote, allow_download=False) == first
    assert len(server.requests) == 1


def test_checksum_mismatch_is_rejected_and_not_cached(server, data_env):
    url = server.put("payload.bin", PAYLOAD)
    with pytest.raises(DataUnavailable, match="failed its checksum") as e:
        ensure_file("toy", _remote(url, sha256="0" * 64), console=QUIET)
    assert "\n" not in str(e.value)
    assert _leftovers(data_env) == []


def test_truncated_download_is_rejected(server, data_env):
    server.put("payload.bin", PAYLOAD)
    url = f"{server.url}/short/payload.bin"  # promises len(PAYLOAD) bytes, sends half
    with pytest.raises(DataUnavailable, match="incomplete"):
        ensure_file("toy", _remote(url), console=QUIET)
    # Without a known size the SHA-256 still catches it.
    with pytest.raises(DataUnavailable, match="checksum|could not download"):
        ensure_file("toy", _remote(url, size=None), console=QUIET)
    assert _leftovers(data_env) == []


def test_longer_than_published_is_rejected(server, data_env):
    url = server.put("payload.bin", PAYLOAD + b"extra")
    with pytest.raises(DataUnavailable, match="incomplete|checksum"):
        ensure_file("toy", _remote(url), console=QUIET)
    assert _leftovers(data_env) == []


def test_mirror_is_used_first(server, tmp_path, monkeypatch, data_env):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "payload.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("INTRODL_DATA", str(mirror))
    path = ensure_file("toy", _remote(server.put("payload.bin", PAYLOAD)), console=QUIET)
    assert path == mirror / "toy" / "payload.bin"
    assert server.requests == []
    assert _leftovers(data_env) == []


def test_corrupt_mirror_file_is_refused_not_used(server, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "payload.bin").write_bytes(PAYLOAD[:-1])
    monkeypatch.setenv("INTRODL_DATA", str(mirror))
    with pytest.raises(DataUnavailable, match="mirror file failed its checksum"):
        ensure_file("toy", _remote(server.put("payload.bin", PAYLOAD)), console=QUIET)
    assert (mirror / "toy" / "payload.bin").exists()  # the mirror is the user's: left alone
    assert server.requests == []


def test_corrupt_cache_file_is_replaced(server, data_env):
    (data_env / "toy").mkdir(parents=True)
    (data_env / "toy" / "payload.bin").write_bytes(b"garbage")
    path = ensure_file("toy", _remote(server.put("payload.bin", PAYLOAD)), console=QUIET)
    assert path.read_bytes() == PAYLOAD
    assert len(server.requests) == 1


def test_offline_and_missing_says_what_to_do(monkeypatch, server):
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    with pytest.raises(DataUnavailable) as e:
        ensure_file("toy", _remote(server.put("payload.bin", PAYLOAD)))
    msg = str(e.value)
    assert "\n" not in msg and "payload.bin" in msg
    assert "introdl data fetch toy" in msg and "INTRODL_DATA" in msg
    assert server.requests == []


def test_network_errors_are_one_line(server, data_env):
    url = server.put("payload.bin", PAYLOAD)
    with pytest.raises(DataUnavailable, match="HTTP 404") as e:
        ensure_file("toy", _remote(url.replace("payload", "missing")), console=QUIET)
    assert "\n" not in str(e.value)
    with pytest.raises(DataUnavailable, match="could not download"):  # nothing listens on port 9
        ensure_file("toy", _remote("http://127.0.0.1:9/payload.bin"), console=QUIET)
    assert _leftovers(data_env) == []


def test_file_without_published_checksum_is_refused(server):
    remote = RemoteFile(server.put("payload.bin", PAYLOAD), None, "payload.bin")
    with pytest.raises(DataUnavailable, match="no published checksum"):
        ensure_file("toy", remote, console=QUIET)
    assert server.requests == []


def test_md5_is_used_only_where_no_sha256_exists(server):
    url = server.put("payload.bin", PAYLOAD)
    good = RemoteFile(url, None, "payload.bin", md5=hashlib.md5(PAYLOAD).hexdigest())
    assert ensure_file("toy", good, console=QUIET).read_bytes() == PAYLOAD
    bad = RemoteFile(url, None, "other.bin", md5="0" * 32)
    with pytest.raises(DataUnavailable, match="md5"):
        ensure_file("toy", bad, console=QUIET)


def test_alternative_encoding_is_accepted(server):
    other = b"same content, other encoding"
    remote = RemoteFile(server.put("payload.bin", other), sha256(PAYLOAD), "payload.bin",
                        alt_sha256=(sha256(other),))
    assert ensure_file("toy", remote, console=QUIET).read_bytes() == other


def _tar(tmp_path, *members: tarfile.TarInfo, data: bytes = b"x"):
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for m in members:
            if m.isfile():
                m.size = len(data)
                tar.addfile(m, io.BytesIO(data))
            else:
                tar.addfile(m)
    return path


def test_tar_extracts_plain_files(tmp_path):
    archive = _tar(tmp_path, tarfile.TarInfo("top/a.bin"), tarfile.TarInfo("top/b.bin"))
    dest = extract_tar(archive, tmp_path / "out")
    assert sorted(p.name for p in (dest / "top").iterdir()) == ["a.bin", "b.bin"]


@pytest.mark.parametrize("name", ["../escape.bin", "/abs/escape.bin", "top/../../escape.bin"])
def test_tar_path_traversal_is_refused(tmp_path, name):
    archive = _tar(tmp_path, tarfile.TarInfo("top/ok.bin"), tarfile.TarInfo(name))
    with pytest.raises(DataUnavailable, match="unsafe"):
        extract_tar(archive, tmp_path / "sub" / "out")
    assert not (tmp_path / "sub" / "out").exists()
    assert not (tmp_path / "escape.bin").exists() and not (tmp_path / "sub" / "escape.bin").exists()
    assert _leftovers(tmp_path / "sub") == []


def test_tar_links_are_refused(tmp_path):
    link = tarfile.TarInfo("top/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(DataUnavailable, match="unsafe"):
        extract_tar(_tar(tmp_path, link), tmp_path / "out")
    assert not (tmp_path / "out").exists()
