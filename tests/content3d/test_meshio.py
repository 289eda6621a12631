"""Mesh files: OBJ/PLY round trips through trimesh, refusing overwrites, bad input."""

from __future__ import annotations

import numpy as np
import pybullet_data
import pytest
import torch
import trimesh

from introdl.content3d.meshio import read_mesh, write_mesh
from introdl.errors import UsageError


@pytest.mark.parametrize("suffix", [".obj", ".ply"])
def test_round_trip_keeps_the_mesh(tmp_path, suffix):
    m = trimesh.creation.torus(0.6, 0.25)
    v, f = torch.tensor(m.vertices, dtype=torch.float32), torch.tensor(m.faces)
    path = write_mesh(tmp_path / f"t{suffix}", v, f)
    v2, f2 = read_mesh(path)
    assert v2.dtype == torch.float32 and f2.dtype == torch.int64
    back = trimesh.Trimesh(v2.numpy(), f2.numpy())
    assert back.is_watertight and len(f2) == len(f)
    assert back.volume == pytest.approx(m.volume, rel=1e-5)
    assert trimesh.load(path, force="mesh").faces.shape == (len(f), 3)  # trimesh reads it
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary left behind


def test_refuses_to_overwrite_unless_forced(tmp_path):
    m = trimesh.creation.box()
    path = write_mesh(tmp_path / "b.obj", m.vertices, m.faces)
    before = path.read_text()
    small = trimesh.creation.box((0.1, 0.1, 0.1))
    with pytest.raises(UsageError, match="exists"):
        write_mesh(path, small.vertices, small.faces)
    assert path.read_text() == before
    write_mesh(path, small.vertices, small.faces, force=True)
    assert np.abs(read_mesh(path)[0].numpy()).max() == pytest.approx(0.05)


def test_seams_are_merged_so_a_closed_mesh_reads_as_closed():
    path = f"{pybullet_data.getDataPath()}/duck.obj"  # split at texture seams on disk
    assert not trimesh.load(path, force="mesh").is_watertight
    v, f = read_mesh(path)
    assert trimesh.Trimesh(v.numpy(), f.numpy()).is_watertight
    v_raw, _ = read_mesh(path, merge=False)
    assert len(v_raw) > len(v)


def test_bad_paths_and_formats_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="unsupported"):
        read_mesh(tmp_path / "x.stl")
    with pytest.raises(UsageError, match="no such"):
        read_mesh(tmp_path / "missing.obj")
    (tmp_path / "junk.ply").write_bytes(b"not a ply file")
    with pytest.raises(UsageError, match="junk.ply"):
        read_mesh(tmp_path / "junk.ply")
    with pytest.raises(UsageError, match="unsupported"):
        write_mesh(tmp_path / "x.txt", torch.zeros(3, 3), torch.tensor([[0, 1, 2]]))
