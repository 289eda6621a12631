"""Files from the network, verified by SHA-256: a local mirror, then the cache, then a download.

Other modules reuse this to get any file the project needs (a dataset's archive,
the 6.S191 lab's ``irish.abc``)::

    from introdl.data.download import RemoteFile, ensure_file

    IRISH = RemoteFile(url="https://.../irish.abc", sha256="<64 hex digits>",
                       filename="irish.abc", size=None)
    path = ensure_file("irish", IRISH)   # -> Path to a verified file

``ensure_file(dataset, remote)`` looks in three places, in order:

1. ``$INTRODL_DATA/<dataset>/<filename>`` — a local mirror you filled by hand
   (read-only to us; a file there with the wrong SHA-256 is an error, never used);
2. ``$INTRODL_CACHE/<dataset>/<filename>`` (default ``~/.cache/introdl``) — earlier
   downloads; a cached file that fails its check is deleted and fetched again;
3. ``remote.url`` — streamed into ``<filename>.<random>.part`` beside the final
   path, checked for size and SHA-256, then renamed into place (``os.replace`` is
   atomic), so a partial or corrupt download never looks like a finished one.

Downloads are skipped when ``INTRODL_OFFLINE=1``. Every failure (offline, network
error, checksum mismatch, truncated file) is a one-line
:class:`~introdl.errors.DataUnavailable` that says what is missing and what to do.

A file with no published SHA-256 may name a published MD5 instead (USPS: only
torchvision's MD5 values are published); a file with neither is refused.
``alt_sha256`` lists other exact encodings of the same content that a mirror or
the system may hold (Debian's re-compressed Fashion-MNIST ``.gz`` files).

:func:`extract_tar` unpacks a verified archive, refusing members that would land
outside the destination (absolute paths, ``..``, links, devices).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from introdl.errors import DataUnavailable

CHUNK = 1 << 20  # bytes read per step while downloading or hashing
TIMEOUT_S = 60  # seconds to wait for the server before giving up
_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> digest, per process


@dataclass(frozen=True)
class RemoteFile:
    """One file on the network and the checksum its publisher gave for it.

    Args:
        url: where to download it (``https://``, ``http://`` or ``file://``).
        sha256: published SHA-256 (64 hex digits), or None where none is published.
        filename: name in the mirror and cache folders.
        size: expected size in bytes, when known (catches truncation early).
        md5: published MD5, used only where no SHA-256 exists.
        alt_sha256: SHA-256 of other accepted encodings of the same content.
    """

    url: str
    sha256: str | None
    filename: str
    size: int | None = None
    md5: str | None = None
    alt_sha256: tuple[str, ...] = ()

    @property
    def checksum(self) -> str:
        """The checksum that decides, as 'sha256:<hex>' or 'md5:<hex>'."""
        if self.sha256:
            return f"sha256:{self.sha256}"
        if self.md5:
            return f"md5:{self.md5}"
        raise DataUnavailable(f"{self.filename}: no published checksum is known, so it cannot "
                              "be verified and is not used; see docs/data.md")


def cache_dir() -> Path:
    """Where downloads are kept: ``$INTRODL_CACHE`` or ``~/.cache/introdl``."""
    return Path(os.environ.get("INTRODL_CACHE") or Path.home() / ".cache" / "introdl")


def mirror_dir() -> Path | None:
    """The local mirror named by ``$INTRODL_DATA``, if any."""
    d = os.environ.get("INTRODL_DATA")
    return Path(d) if d else None


def offline() -> bool:
    return os.environ.get("INTRODL_OFFLINE", "").lower() in ("1", "true", "yes")


def candidates(dataset: str, remote: RemoteFile) -> list[tuple[str, Path]]:
    """(kind, path) places this file may already be: the mirror, then the cache."""
    places = []
    if (m := mirror_dir()) is not None:
        places.append(("mirror", m / dataset / remote.filename))
    places.append(("cache", cache_dir() / dataset / remote.filename))
    return places


def file_digest(path: Path, algorithm: str = "sha256", *, memo: bool = True) -> str:
    """Hex digest of a file; remembered per process while its size and mtime stay the same."""
    st = path.stat()
    key = (f"{algorithm}:{path.resolve()}", st.st_size, st.st_mtime_ns)
    if memo and key in _verified:
        return _verified[key]
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    _verified[key] = h.hexdigest()
    return _verified[key]


def check_file(path: Path, remote: RemoteFile, *, memo: bool = True) -> str | None:
    """None when ``path`` matches the published checksum, else a one-line reason."""
    algorithm, expected = remote.checksum.split(":")
    accepted = {expected, *remote.alt_sha256} if algorithm == "sha256" else {expected}
    got = file_digest(path, algorithm, memo=memo)
    if got in accepted:
        return None
    return (f"{path} has {algorithm} {got[:12]}..., expected {expected[:12]}... "
            f"({path.stat().st_size} bytes)")


def ensure_file(dataset: str, remote: RemoteFile, *, console: Console | None = None,
                allow_download: bool | None = None) -> Path:
    """Path to a verified copy of ``remote``: from the mirror, the cache, or a fresh download.

    Args:
        dataset: folder name under the mirror and the cache (e.g. "mnist", "irish").
        remote: the file and its published checksum.
        console: where the progress bar goes (default: stderr).
        allow_download: False never touches the network; None follows ``INTRODL_OFFLINE``.
    """
    remote.checksum  # noqa: B018 -- refuse files without a checksum before anything else
    for kind, path in candidates(dataset, remote):
        if not path.is_file():
            continue
        if (bad := check_file(path, remote)) is None:
            return path
        if kind == "mirror":
            raise DataUnavailable(f"mirror file failed its checksum and was not used: {bad}; "
                                  "replace it with the original file")
        path.unlink()  # our own cache: drop the bad copy and fetch it again
        (console or Console(stderr=True)).print(f"[yellow]removed corrupt cache file: {bad}")
    if allow_download is None:
        allow_download = not offline()
    target = cache_dir() / dataset / remote.filename
    if not allow_download:
        why = " and INTRODL_OFFLINE=1 forbids downloads" if offline() else ""
        raise DataUnavailable(
            f"{dataset}: {remote.filename} is not here{why}; run 'introdl data fetch {dataset}' "
            f"with network{' and INTRODL_OFFLINE unset' if why else ''}, or put it in "
            f"$INTRODL_DATA/{dataset}/ (see docs/data.md)")
    return download(remote, target, console=console)


def download(remote: RemoteFile, target: Path, *, console: Console | None = None) -> Path:
    """Stream ``remote.url`` to ``target`` through a ``.part`` file; verify, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    part = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            received = _stream(remote, target.parent.name, out, console or Console(stderr=True))
        if remote.size is not None and received != remote.size:
            raise DataUnavailable(f"download of {remote.url} is incomplete ({received} of "
                                  f"{remote.size} bytes); run the command again")
        if (bad := check_file(part, remote, memo=False)) is not None:
            raise DataUnavailable(f"downloaded file failed its checksum and was discarded: "
                                  f"{bad.replace(str(part), remote.url)}")
        os.replace(part, target)
        return target
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def _stream(remote: RemoteFile, dataset: str, out: BinaryIO, console: Console) -> int:
    """Copy the URL's bytes into ``out`` with a progress bar; network errors become one line."""
    what = f"could not download {remote.url}"
    todo = (f"check the network, or put {remote.filename} in $INTRODL_DATA/{dataset}/ "
            "(see docs/data.md)")
    received = 0
    try:
        req = urllib.request.Request(remote.url, headers={"User-Agent": "introdl"})
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            total = remote.size or int(resp.headers.get("Content-Length") or 0) or None
            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                       TransferSpeedColumn(), TimeRemainingColumn())
            with Progress(*columns, console=console, transient=True,
                          disable=console.quiet) as bar:
                task = bar.add_task(remote.filename, total=total)
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(task, advance=len(chunk))
                    if remote.size is not None and received > remote.size:
                        break  # longer than published: it cannot verify, stop reading
    except urllib.error.HTTPError as e:
        raise DataUnavailable(f"{what}: HTTP {e.code} {e.reason}; {todo}") from None
    except urllib.error.URLError as e:
        raise DataUnavailable(f"{what}: {e.reason}; {todo}") from None
    except (OSError, ValueError, http.client.HTTPException) as e:  # timeouts, resets, cut-offs
        raise DataUnavailable(f"{what}: {e}; {todo}") from None
    return received


def _safe_member(member: tarfile.TarInfo) -> bool:
    name = PurePosixPath(member.name)
    inside = not name.is_absolute() and ".." not in name.parts
    return inside and (member.isfile() or member.isdir())


def extract_tar(archive: Path, dest: Path) -> Path:
    """Unpack a verified tar archive into ``dest`` (created whole or not at all).

    Every member must be a plain file or folder with a relative path and no ``..``;
    anything else (absolute paths, traversal, links, devices) refuses the archive.
    Extraction goes to a temporary sibling folder that is renamed into place.
    """
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part"))
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            if bad := [m.name for m in members if not _safe_member(m)]:
                raise DataUnavailable(f"{archive} holds unsafe entries (e.g. {bad[0]!r}); "
                                      "refusing to extract it")
            # tarfile's "data" filter (Python >= 3.10.12) is a second guard on the same rules
            extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, members=members, **extra)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
