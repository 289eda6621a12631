"""A DIB-R-style differentiable renderer: project, rasterise, interpolate, shade, composite.

``render`` puts the pieces of this package together (Chen et al., 2019, "Learning to Predict
3D Objects with an Interpolation-based Differentiable Renderer"):

1. :class:`~introdl.content3d.camera.Camera` projects world vertices to NDC + view depth;
2. :func:`~introdl.content3d.raster.rasterize` finds each pixel's nearest face (z-buffer) and
   its differentiable, perspective-correct barycentrics - the *foreground* path: colours, UVs
   and normals are interpolated from the vertices, so gradients reach them;
3. :func:`~introdl.content3d.silhouette.soft_silhouette` gives the *background* path: a soft
   alpha from the distance to nearby triangles, so gradients reach vertex positions from
   outside the object;
4. the albedo (vertex colours, a UV texture, or white) is shaded by Lambert or SH lighting
   (unlit when neither is given) and composited over a constant background with the hard mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from introdl.content3d.camera import Camera
from introdl.content3d.raster import Fragments, interpolate, rasterize
from introdl.content3d.shading import lambert, sh_shading, vertex_normals
from introdl.content3d.silhouette import soft_silhouette
from introdl.content3d.texture import sample_texture


@dataclass
class RenderOut:
    """Images of a batch of B renders, channels first."""

    rgb: Tensor  # (B, C, H, W) shaded colour over the background (hard-mask composite)
    alpha: Tensor  # (B, 1, H, W) soft silhouette (DIB-R's background path), 1 where covered
    mask: Tensor  # (B, 1, H, W) hard coverage as float 0/1
    depth: Tensor  # (B, 1, H, W) view depth on covered pixels, 0 on background
    fragments: Fragments | None = None  # the rasteriser's per-pixel face ids and barycentrics


def render(
    verts: Tensor,
    faces: Tensor,
    camera: Camera,
    size: int,
    *,
    colors: Tensor | None = None,
    uvs: Tensor | None = None,
    texture: Tensor | None = None,
    light_dir: Tensor | None = None,
    sh_coeffs: Tensor | None = None,
    ambient: float = 0.3,
    delta: float = 3e-4,
    background: float = 0.0,
) -> RenderOut:
    """Render B meshes (verts (B, V, 3) in world space; faces (F, 3) shared, or (B, F, 3)).

    Albedo: ``texture`` (B, C, Ht, Wt) looked up at the interpolated ``uvs`` (B, V, 2) if both
    are given, else vertex ``colors`` (B, V, C), else white (C = 3). Lighting: ``sh_coeffs``
    (B, 9) if given, else Lambert with ``light_dir`` (B, 3, pointing towards the light) and
    ``ambient``, else none. A batch of 1 in ``verts`` or ``camera.view`` broadcasts.
    """
    if verts.shape[0] == 1 and camera.view.shape[0] > 1:
        verts = verts.expand(camera.view.shape[0], *verts.shape[1:])
    ndc = camera.project(verts)
    frags = rasterize(ndc, faces, size)
    alpha = soft_silhouette(ndc, faces, size, delta, covered=frags.mask)
    mask = frags.mask.unsqueeze(-1).to(verts.dtype)

    if texture is not None and uvs is not None:
        albedo = sample_texture(interpolate(uvs, faces, frags), texture)
    elif colors is not None:
        albedo = interpolate(colors, faces, frags)
    else:
        albedo = mask.expand(*mask.shape[:-1], 3)
    if sh_coeffs is not None or light_dir is not None:
        normals = interpolate(vertex_normals(verts, faces), faces, frags)
        if sh_coeffs is not None:
            albedo = sh_shading(normals, albedo, sh_coeffs)
        else:
            albedo = lambert(normals, albedo, light_dir, ambient)
    rgb = albedo * mask + background * (1.0 - mask)
    depth = torch.where(frags.mask, frags.depth, torch.zeros_like(frags.depth))
    return RenderOut(
        rgb=rgb.permute(0, 3, 1, 2),
        alpha=alpha.unsqueeze(1),
        mask=mask.permute(0, 3, 1, 2),
        depth=depth.unsqueeze(1),
        fragments=frags,
    )
