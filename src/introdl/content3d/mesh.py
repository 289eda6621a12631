"""Triangle meshes as tensors: the icosphere template, mesh regularisers, and loading real meshes.

A mesh here is ``verts`` (V, 3) float32 (or batched (B, V, 3)) and ``faces`` (F, 3) long,
counter-clockwise seen from outside. Mesh files are read by trimesh; the icosphere is
trimesh's too (subdivided icosahedron projected to the unit sphere, V = 10 * 4**s + 2).

The two regularisers are what keeps a deformed template a surface while image losses pull
it (Kato et al. 2018; Chen et al. 2019, DIB-R; PyTorch3D's mesh-fitting tutorial):

- :func:`laplacian_loss`: uniform (umbrella) Laplacian, each vertex minus the mean of its
  edge neighbours, squared and averaged: zero on any flat patch, small on smooth surfaces,
  large on spikes.
- :func:`edge_length_loss`: mean squared edge length (minus an optional target length), so
  no triangle grows or flips to cover the image cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import trimesh
from torch import Tensor


def icosphere(subdivisions: int) -> tuple[Tensor, Tensor]:
    """Unit-radius icosphere: (verts (V, 3) float32, faces (F, 3) long), V = 10 * 4**s + 2."""
    if subdivisions < 0:
        raise ValueError(f"subdivisions must be >= 0, got {subdivisions}")
    m = trimesh.creation.icosphere(subdivisions=subdivisions, radius=1.0)
    return (torch.as_tensor(np.asarray(m.vertices), dtype=torch.float32),
            torch.as_tensor(np.asarray(m.faces), dtype=torch.long))


def icosphere_size(subdivisions: int) -> tuple[int, int]:
    """(vertices, faces) of an icosphere after ``subdivisions``: (10 * 4**s + 2, 20 * 4**s)."""
    return 10 * 4**subdivisions + 2, 20 * 4**subdivisions


def edges(faces: Tensor) -> Tensor:
    """Unique undirected edges (E, 2) of a triangle list, each as (low, high) vertex index."""
    e = torch.cat([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    return torch.unique(torch.sort(e, dim=1).values, dim=0)


def _batched(verts: Tensor) -> Tensor:
    return verts.unsqueeze(0) if verts.dim() == 2 else verts


def uniform_laplacian(verts: Tensor, faces: Tensor) -> Tensor:
    """Each vertex minus the mean of its edge neighbours: (B, V, 3) (or (V, 3) for (V, 3))."""
    v = _batched(verts)
    e = edges(faces).to(v.device)
    n = v.shape[1]
    i = torch.cat([e[:, 0], e[:, 1]])
    j = torch.cat([e[:, 1], e[:, 0]])
    total = torch.zeros_like(v).index_add_(1, i, v[:, j])
    degree = torch.zeros(n, dtype=v.dtype, device=v.device).index_add_(
        0, i, torch.ones_like(i, dtype=v.dtype))
    lap = v - total / degree.clamp(min=1).view(1, n, 1)
    return lap if verts.dim() == 3 else lap[0]


def laplacian_loss(verts: Tensor, faces: Tensor) -> Tensor:
    """Mean over vertices (and batch) of the squared uniform Laplacian: a scalar."""
    return uniform_laplacian(_batched(verts), faces).pow(2).sum(-1).mean()


def edge_length_loss(verts: Tensor, faces: Tensor, target: float = 0.0) -> Tensor:
    """Mean over unique edges (and batch) of (|edge| - target)^2; target 0 = squared length."""
    v = _batched(verts)
    e = edges(faces).to(v.device)
    length = (v[:, e[:, 0]] - v[:, e[:, 1]]).norm(dim=-1)
    return (length - target).pow(2).mean()


def normalize(verts: Tensor) -> Tensor:
    """Centre the bounding box at the origin and scale so the farthest vertex has norm 1."""
    lo, hi = verts.min(dim=-2, keepdim=True).values, verts.max(dim=-2, keepdim=True).values
    centred = verts - (lo + hi) / 2
    return centred / centred.norm(dim=-1).amax(dim=-1, keepdim=True).unsqueeze(-1).clamp(
        min=1e-12)


def _load(path: str | Path) -> trimesh.Trimesh:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no mesh file at {path}")
    return trimesh.load(path, force="mesh")


def load_mesh(path: str | Path) -> tuple[Tensor, Tensor]:
    """Geometry of a mesh file through trimesh, texture seams welded: (verts, faces).

    Vertices are as stored (call :func:`normalize` to centre and scale them).
    """
    m = _load(path)
    m.merge_vertices(merge_tex=True, merge_norm=True)  # one vertex per position
    return (torch.as_tensor(np.asarray(m.vertices), dtype=torch.float32),
            torch.as_tensor(np.asarray(m.faces), dtype=torch.long))


@dataclass
class TexturedMesh:
    """A mesh with its UV map and texture image, plus per-vertex colours sampled from it.

    verts (V, 3), faces (F, 3), uvs (V, 2) in [0, 1] (OBJ convention: v = 0 is the image's
    bottom row), texture (3, H, W) in [0, 1] (row 0 = top), colors (V, 3) in [0, 1]
    (trimesh's texture lookup at each vertex's UV).
    """

    verts: Tensor
    faces: Tensor
    uvs: Tensor
    texture: Tensor
    colors: Tensor


def load_textured_mesh(path: str | Path) -> TexturedMesh:
    """A textured mesh file (OBJ + MTL + image) with UV seams kept (vertices split there)."""
    m = _load(path)
    visual = m.visual
    uv = getattr(visual, "uv", None)
    image = getattr(getattr(visual, "material", None), "image", None)
    if uv is None or image is None:
        raise ValueError(f"{path} has no UV map and texture image")
    tex = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    colors = np.asarray(visual.to_color().vertex_colors, dtype=np.float32)[:, :3] / 255.0
    return TexturedMesh(
        verts=torch.as_tensor(np.asarray(m.vertices), dtype=torch.float32),
        faces=torch.as_tensor(np.asarray(m.faces), dtype=torch.long),
        uvs=torch.as_tensor(np.asarray(uv), dtype=torch.float32),
        texture=torch.as_tensor(tex).permute(2, 0, 1).contiguous(),
        colors=torch.as_tensor(colors))


def to_trimesh(verts: Tensor, faces: Tensor) -> trimesh.Trimesh:
    """A trimesh view of tensors (for watertightness, export, sampling checks)."""
    return trimesh.Trimesh(verts.detach().cpu().numpy(), faces.cpu().numpy(), process=False)
