"""Vertex normals and two shading models: Lambert with a directional light, and 9-term SH.

Both shade per pixel from interpolated (then re-normalised) world-space normals, as DIB-R does.

* Lambert: ``albedo * (ambient + (1 - ambient) * max(0, n . l))`` with ``l`` the unit direction
  *towards* the light; the diffuse part follows Lambert's cosine law, and a fully lit pixel
  facing the light gets exactly the albedo.
* Spherical harmonics: ``albedo * max(0, sum_k c_k Y_k(n))`` over the 9 real SH basis functions
  of bands 0-2 (the usual constants 0.282095, 0.488603, 1.092548, 0.315392, 0.546274), the
  low-frequency environment lighting model of Ramamoorthi & Hanrahan (2001).
"""

from __future__ import annotations

import torch
from torch import Tensor

from introdl.content3d.raster import batched_faces

SH_C0 = 0.282095
SH_C1 = 0.488603
SH_C2 = 1.092548
SH_C3 = 0.315392
SH_C4 = 0.546274


def _normalize(v: Tensor, eps: float = 1e-12) -> Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(eps)


def face_normals(verts: Tensor, faces: Tensor) -> Tensor:
    """Area-weighted face normals (B, F, 3): cross(v1 - v0, v2 - v0), counter-clockwise out."""
    tri = batched_faces(verts, faces)
    return torch.linalg.cross(tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0], dim=-1)


def vertex_normals(verts: Tensor, faces: Tensor) -> Tensor:
    """Unit vertex normals (B, V, 3): the normalised sum of area-weighted face normals.

    ``faces`` is (F, 3), shared by the batch, or (B, F, 3).
    """
    fn = face_normals(verts, faces)  # (B, F, 3)
    idx = faces.expand(verts.shape[0], *faces.shape[-2:])  # (B, F, 3), shared or per mesh
    out = torch.zeros_like(verts)
    for k in range(3):
        out = out.scatter_add(1, idx[:, :, k : k + 1].expand_as(fn), fn)
    return _normalize(out)


def lambert(
    normals: Tensor, albedo: Tensor, light_dir: Tensor, ambient: float | Tensor = 0.3
) -> Tensor:
    """Lambertian shading (B, H, W, C) of normals (B, H, W, 3) lit from ``light_dir`` (B, 3)."""
    n = _normalize(normals)
    ldir = _normalize(light_dir.to(n))[:, None, None, :]
    cos = (n * ldir).sum(dim=-1, keepdim=True).clamp_min(0.0)
    amb = torch.as_tensor(ambient, dtype=n.dtype, device=n.device)
    if amb.dim() == 1:
        amb = amb[:, None, None, None]
    return albedo * (amb + (1.0 - amb) * cos)


def sh_basis(normals: Tensor) -> Tensor:
    """The 9 real spherical-harmonic basis functions (..., 9) at unit normals (..., 3)."""
    x, y, z = normals.unbind(dim=-1)
    return torch.stack(
        [
            torch.full_like(x, SH_C0),
            SH_C1 * y,
            SH_C1 * z,
            SH_C1 * x,
            SH_C2 * x * y,
            SH_C2 * y * z,
            SH_C3 * (3 * z * z - 1),
            SH_C2 * x * z,
            SH_C4 * (x * x - y * y),
        ],
        dim=-1,
    )


def sh_shading(normals: Tensor, albedo: Tensor, coeffs: Tensor) -> Tensor:
    """SH shading (B, H, W, C): albedo times the irradiance sum_k c_k Y_k(n), clamped at 0."""
    basis = sh_basis(_normalize(normals))
    light = (basis * coeffs.to(basis)[:, None, None, :]).sum(dim=-1, keepdim=True)
    return albedo * light.clamp_min(0.0)
