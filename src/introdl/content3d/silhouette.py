"""DIB-R's background path: a soft silhouette from each pixel's distance to nearby triangles.

A hard mask has zero gradient almost everywhere: moving a vertex a little changes no pixel's
coverage. DIB-R (Chen et al., 2019) gives background pixels a soft coverage

    A(p) = 1 - prod_f (1 - exp(-d(p, f)^2 / delta)),

where d(p, f) is the distance (NDC units) from the pixel centre to triangle f, 0 inside it.
A pixel just outside an edge then has 0 < A < 1, and dA/d(vertex) pulls the edge towards (or
away from) it: gradients reach vertex positions from outside the object. Covered pixels get
A = 1 exactly (their gradients come from the foreground path instead).

Only faces whose bounding box, grown by the cut-off radius r = sqrt(delta * ln(1 / eps)),
reaches a pixel are considered (beyond r a face changes A by less than eps), and the product is
taken as a sum of log(1 - exp(-x)) = log(-expm1(-x)) for numerical stability.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from introdl.content3d.raster import (
    MAX_PAIRS,
    batched_faces,
    face_pixel_pairs,
    pixel_ndc,
    screen_barycentrics,
    valid_faces,
    zbuffer,
)

CUTOFF_EPS = 1e-4  # a face further than the cut-off radius changes A by less than this


def cutoff_radius(delta: float, eps: float = CUTOFF_EPS) -> float:
    """NDC distance beyond which exp(-d^2 / delta) < eps."""
    return math.sqrt(delta * math.log(1.0 / eps))


def point_triangle_sq_distance(tri_xy: Tensor, p: Tensor) -> Tensor:
    """Squared 2-D distance (...,) from points p (..., 2) to triangles (..., 3, 2); 0 inside."""
    inside = (screen_barycentrics(tri_xy, p) >= 0).all(dim=-1)
    a = tri_xy
    b = tri_xy.roll(-1, dims=-2)
    ab = b - a
    ap = p.unsqueeze(-2) - a
    t = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-20)).clamp(0.0, 1.0)
    d2 = (ap - t.unsqueeze(-1) * ab).pow(2).sum(-1).min(dim=-1).values
    return torch.where(inside, torch.zeros_like(d2), d2)


def soft_silhouette(
    verts_ndc: Tensor,
    faces: Tensor,
    size: int,
    delta: float = 3e-4,
    *,
    covered: Tensor | None = None,
    max_pairs: int = MAX_PAIRS,
) -> Tensor:
    """Soft coverage A (B, H, W) in [0, 1] of B meshes (verts_ndc: NDC x, y, view depth).

    Differentiable w.r.t. ``verts_ndc`` on background pixels within the cut-off radius of an
    edge; 1 (no gradient) on pixels whose centre a triangle covers. ``covered`` (B, H, W) bool
    is that hard mask if the caller already has it (from :func:`rasterize`); else it is computed.
    Covered pixels are dropped before any distance is computed, so the cost scales with the
    band around the silhouette, not with the object's area.
    """
    bsz = verts_ndc.shape[0]
    hw = size * size
    tri = batched_faces(verts_ndc, faces)
    n_faces = tri.shape[1]
    flat = tri.reshape(-1, 3, 3)
    r = cutoff_radius(delta)
    with torch.no_grad():
        if covered is None:
            covered = zbuffer(flat.detach(), n_faces, size, max_pairs) >= 0
        covered = covered.reshape(-1)
        valid = valid_faces(flat.detach())
        wanted = ~covered.reshape(bsz, size, size)
        pairs = face_pixel_pairs(flat[..., :2].detach(), valid, size, r, max_pairs, wanted)
    pixels, terms = [], []
    for face, row, col in pairs:  # only pairs on uncovered pixels, near a face's box
        gpix = row * size + col + (face // n_faces) * hw
        keep = ~covered[gpix]
        face, gpix = face[keep], gpix[keep]
        p = pixel_ndc(row[keep], col[keep], size, flat.dtype)
        d2 = point_triangle_sq_distance(flat[face, :, :2], p)
        near = d2 < r * r
        x = (d2[near] / delta).clamp_min(1e-12)
        terms.append(torch.log(-torch.expm1(-x)))  # log(1 - exp(-d^2 / delta))
        pixels.append(gpix[near])
    log_empty = torch.zeros(bsz * hw, dtype=flat.dtype, device=flat.device)
    if terms:
        log_empty = log_empty.index_add(0, torch.cat(pixels), torch.cat(terms))
    alpha = torch.where(covered, torch.ones_like(log_empty), 1.0 - torch.exp(log_empty))
    return alpha.reshape(bsz, size, size)
