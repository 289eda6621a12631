"""Read and write triangle meshes (OBJ, PLY) through trimesh, as (verts, faces) tensors.

Reading merges vertices that share a position (OBJ files split them wherever texture
coordinates or normals differ, which leaves a closed surface looking open) and drops
degenerate faces, so ``trimesh.Trimesh(verts, faces).is_watertight`` means what it says.
Writing is atomic (a temporary sibling renamed into place, so a reader never sees half a
file) and refuses to replace an existing file unless ``force=True``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import trimesh
from torch import Tensor

from introdl.errors import UsageError
from introdl.io import atomic_open

FORMATS = (".obj", ".ply")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{path}: unsupported mesh format {suffix or '(none)'}; "
                         f"use one of {', '.join(FORMATS)}")
    return suffix


def to_trimesh(verts: Tensor, faces: Tensor) -> trimesh.Trimesh:
    """A ``trimesh.Trimesh`` of the tensors (no reprocessing: vertex order is kept)."""
    v = torch.as_tensor(verts).detach().cpu().numpy().astype(np.float64)
    f = torch.as_tensor(faces).detach().cpu().numpy().astype(np.int64)
    return trimesh.Trimesh(v, f, process=False)


def read_mesh(path: str | os.PathLike, merge: bool = True) -> tuple[Tensor, Tensor]:
    """``(verts (V,3) float32, faces (F,3) int64)`` of the OBJ/PLY file, all parts in one mesh."""
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such mesh file; check the path")
    try:
        mesh = trimesh.load(path, file_type=suffix[1:], force="mesh", process=True)
    except Exception as e:  # trimesh raises many kinds for a bad file
        raise UsageError(f"{path}: cannot read it as {suffix[1:].upper()} ({e})") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise UsageError(f"{path}: holds no triangles")
    if merge:
        mesh.merge_vertices(merge_tex=True, merge_norm=True)
        mesh.update_faces(mesh.nondegenerate_faces())
        mesh.remove_unreferenced_vertices()
    return (torch.from_numpy(np.asarray(mesh.vertices, dtype=np.float32)),
            torch.from_numpy(np.asarray(mesh.faces, dtype=np.int64)))


def write_mesh(path: str | os.PathLike, verts: Tensor, faces: Tensor,
               force: bool = False) -> Path:
    """Write the mesh as OBJ or PLY (by suffix), atomically; an existing file needs ``force``."""
    path = Path(path)
    suffix = _suffix(path)
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass force=True (or --force) to replace it")
    data = to_trimesh(verts, faces).export(file_type=suffix[1:])
    mode = "w" if isinstance(data, str) else "wb"
    with atomic_open(path, mode) as f:
        f.write(data)
    return path
