"""Atomic file writes (a reader never sees a half-written file) and the run-folder lock.

Everything is written to a temporary file in the same folder and then renamed
over the destination (``os.replace`` is atomic on POSIX and Windows). A full disk
while writing is one line (:class:`~introdl.errors.DiskFull`), and the destination
keeps its previous content.

:func:`lock_folder` takes an exclusive, non-blocking ``flock`` on ``DIR/.introdl.lock``
so two processes never write one run folder at once.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from introdl.errors import DiskFull, FolderInUse, UsageError

try:
    import fcntl
except ImportError:  # Windows: no flock; folders are not locked there
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".introdl.lock"
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kw: Any) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; rename it into place on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if disk_full(e):
            raise disk_full_error(path) from None
        raise


def disk_full(e: BaseException) -> bool:
    """Whether ``e`` (or what it wraps: torch.save turns ENOSPC into a RuntimeError) is a
    full disk or an exhausted quota."""
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _FULL:
            return True
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    return False


def disk_full_error(path: str | os.PathLike) -> DiskFull:
    return DiskFull(f"no space left on the device while writing {path} (any earlier copy "
                    "is kept); free some space, then run again (--resume continues from the "
                    "last checkpoint)")


def append_line(path: str | os.PathLike, line: str) -> None:
    """Append one line (e.g. to ``metrics.jsonl``); a full disk is a :class:`DiskFull`."""
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    except OSError as e:
        if disk_full(e):
            raise disk_full_error(path) from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=_jsonable)
        f.write("\n")


def _jsonable(x: Any) -> Any:
    if hasattr(x, "item"):  # numpy / torch scalars
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, (set, tuple)):
        return list(x)
    if isinstance(x, os.PathLike):
        return os.fspath(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


class FolderLock:
    """An exclusive ``flock`` on ``folder/.introdl.lock``, held until :meth:`release`.

    The kernel drops the lock when the process exits, however it exits, so a killed
    run never leaves a folder locked. The lock file itself stays (removing it would let
    a third process lock a new file while a second still holds the old one).
    """

    def __init__(self, folder: Path, fd: int | None) -> None:
        self.folder, self._fd = folder, fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_folder(folder: str | os.PathLike) -> FolderLock:
    """Lock ``folder`` (which must exist) for this process, or raise :class:`FolderInUse`.

    Non-blocking: a folder another process holds is refused at once, naming its pid.
    On filesystems without ``flock`` (and on Windows) the folder is not locked.
    """
    folder = Path(folder)
    if fcntl is None:
        return FolderLock(folder, None)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # the umask applies
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        pid = _read_pid(path)
        raise FolderInUse(f"{folder} is in use by another introdl process "
                          f"({f'pid {pid}' if pid else 'pid unknown'}); wait for it to finish "
                          "or use --out DIR for another folder") from None
    except OSError:  # e.g. ENOLCK on a network filesystem: run unlocked rather than not at all
        os.close(fd)
        return FolderLock(folder, None)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return FolderLock(folder, fd)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def check_writable(folder: Path, flag: str = "--out") -> None:
    """Raise UsageError unless ``folder`` exists as a writable folder or could be made.

    Commands call it before any heavy import, so a bad output folder is one line at once.
    """
    p = folder
    while not p.exists() and p != p.parent:  # the nearest part that exists
        p = p.parent
    if not p.is_dir() or not os.access(p, os.W_OK | os.X_OK):
        why = "a file is in the way" if p.exists() and not p.is_dir() else "no permission"
        raise UsageError(f"{flag} {folder} is not writable ({why} at {p}); choose another folder")
