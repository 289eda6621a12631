"""``introdl data list | fetch NAME | verify [NAME]``: what is here, get it, check it."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from introdl.data.download import RemoteFile, candidates, check_file, ensure_file
from introdl.data.registry import DATASETS, SPLITS, DatasetSpec, get_spec
from introdl.errors import UsageError


def source_text(spec: DatasetSpec) -> str:
    """How the dataset arrives, and with which checksum its downloads are verified."""
    if spec.source == "package":
        return spec.provider
    if spec.source == "generated":
        return f"generated: {spec.provider}"
    sums = {(r.sha256 and "SHA-256") or (r.md5 and "MD5") or "no checksum"
            for r in spec.files.values()}
    download = f"download ({', '.join(sorted(sums))})"
    return f"system package, else {download}" if spec.source == "system" else download


def where(spec: DatasetSpec) -> tuple[bool, str]:
    """(available here, where) without hashing: the system copy, else mirror/cache copies."""
    if spec.source == "package":
        return True, "inside the installed package"
    if spec.source == "generated":
        return True, "made on use"
    if system := spec.system_files():
        return True, str(system[0].parent)
    found = []
    for remote in spec.files.values():
        path = next((p for _, p in candidates(spec.name, remote) if p.is_file()), None)
        if path is None:
            return False, "not here"
        found.append(path)
    folders = sorted({str(p.parent) for p in found})
    return bool(found), ", ".join(folders) if found else "not here"


def _with_topic_datasets() -> None:
    """Topic packages register their own files (SST-2, the lab's irish.abc) on import."""
    from introdl.experiment import load_all

    load_all()


def list_datasets(console: Console) -> int:
    _with_topic_datasets()
    table = Table(title="introdl datasets")
    for col in ("name", "description", "source", "here", "where"):
        table.add_column(col, overflow="fold")
    for spec in DATASETS.values():
        here, place = where(spec)
        table.add_row(spec.name, spec.description, source_text(spec),
                      "[green]yes[/]" if here else "[red]no[/]", place)
    console.print(table)
    return 0


def fetch(name: str, console: Console) -> int:
    """Make every file of ``name`` available and verified, then load each split once.

    Downloads what is missing unless ``INTRODL_OFFLINE=1``, which forbids downloads here
    as everywhere (a missing file is then a one-line DataUnavailable).
    """
    _with_topic_datasets()
    spec = get_spec(name)
    if spec.source in ("package", "generated"):
        console.print(f"{name}: {source_text(spec)}; nothing to fetch")
    elif spec.system_files():
        console.print(f"{name}: installed at {spec.system_dir}; nothing to fetch")
    else:
        for remote in spec.files.values():
            path = ensure_file(name, remote, console=console)  # INTRODL_OFFLINE=1: no network
            console.print(f"{name}: {remote.filename} verified ({path})")
    if spec.load is not None:
        for split in SPLITS:
            X, y = spec.load(split)
            console.print(f"{name} {split}: X {X.shape} {X.dtype}, y {y.shape} "
                          f"classes {int(y.min())}..{int(y.max())}")
    return 0


def verify(name: str | None, console: Console) -> int:
    """Re-hash every local copy (system, mirror, cache); exit 1 when any copy mismatches."""
    _with_topic_datasets()
    specs = [get_spec(name)] if name else list(DATASETS.values())
    table = Table(title="checksums")
    for col in ("dataset", "file", "where", "result"):
        table.add_column(col, overflow="fold")
    mismatches = checked = 0
    for spec in specs:
        if spec.source in ("package", "generated") and not spec.files:
            table.add_row(spec.name, "—", where(spec)[1], "nothing to verify")
            continue
        for remote in spec.files.values():
            places = [("system", spec.system_dir / remote.filename)] if spec.system_dir else []
            copies = [(k, p) for k, p in places + candidates(spec.name, remote) if p.is_file()]
            if not copies:
                table.add_row(spec.name, remote.filename, "not here", "—")
            for kind, path in copies:
                bad = _check(path, remote)
                checked += 1
                mismatches += bad is not None
                verdict = "[green]OK[/]" if bad is None else f"[red]MISMATCH[/] {bad}"
                table.add_row(spec.name, remote.filename, f"{kind}: {path.parent}", verdict)
    console.print(table)
    if mismatches:
        msg = f"{mismatches} of {checked} files failed their checksum"
        console.print(f"[red]{msg}; delete them and run 'introdl data fetch NAME'")
        return 1
    console.print(f"{checked} files verified" if checked else "no local files to verify")
    return 0


def _check(path: Path, remote: RemoteFile) -> str | None:
    try:
        return check_file(path, remote, memo=False)
    except UsageError as e:  # a file without any published checksum
        return str(e)
