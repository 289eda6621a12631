"""Triangle rasterisation with a z-buffer, and barycentric interpolation of vertex attributes.

This is DIB-R's foreground path. Which face covers a pixel is a discrete choice, so it is made
without gradient: for every face we list the pixels inside its (clipped) bounding box, test the
pixel centre against the three edge functions, and keep the nearest face per pixel (a z-buffer
built with ``scatter_reduce(..., "amin")``). Faces are processed in chunks so that memory is
bounded by ``max_pairs`` (face, pixel) pairs, never by pixels x faces. Then, for the winning
face only, the barycentric coordinates are recomputed *differentiably* from the projected
vertices, so gradients of anything interpolated with them reach the vertex positions and the
vertex attributes.

Interpolation is perspective-correct: screen-space barycentrics b_i are re-weighted by the
inverse view depths, b'_i = (b_i / z_i) / sum_j (b_j / z_j), and the depth of the pixel is
1 / sum_j (b_j / z_j), the exact view depth of the triangle's plane along that pixel's ray.

Pixel (row i, column j) of a size x size image has its centre at NDC
x = (j + 0.5) / size * 2 - 1 and y = 1 - (i + 0.5) / size * 2 (row 0 is the top). Faces with a
vertex behind the near plane (depth <= ``NEAR``) are dropped rather than clipped, and
triangles are two-sided (no back-face culling), as in a silhouette renderer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

NEAR = 1e-4
MAX_PAIRS = 1 << 21  # (face, pixel) pairs tested at once; bounds the rasteriser's memory


@dataclass
class Fragments:
    """Per-pixel output of :func:`rasterize` for a batch of B images of H x W pixels."""

    face: Tensor  # (B, H, W) long, index into faces, -1 on background
    bary: Tensor  # (B, H, W, 3) perspective-correct barycentrics, differentiable, 0 on background
    depth: Tensor  # (B, H, W) view depth, differentiable, +inf on background

    @property
    def mask(self) -> Tensor:
        """(B, H, W) bool: True where a face covers the pixel centre."""
        return self.face >= 0


def pixel_centres(size: int, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
    """NDC centres (size, size, 2) of the pixels of a square image; row 0 is the top (y = +1)."""
    c = (torch.arange(size, dtype=dtype, device=device) + 0.5) / size * 2 - 1
    ys, xs = torch.meshgrid(-c, c, indexing="ij")
    return torch.stack([xs, ys], dim=-1)


def batched_faces(verts: Tensor, faces: Tensor) -> Tensor:
    """Triangle corners (B, F, 3, 3) from vertices (B, V, 3) and faces (F, 3) or (B, F, 3)."""
    if faces.dim() == 2:
        return verts[:, faces]
    b = torch.arange(verts.shape[0], device=verts.device)[:, None, None]
    return verts[b, faces]


def valid_faces(tri: Tensor) -> Tensor:
    """(N,) bool: all corners in front of the near plane and a non-degenerate projected area."""
    area = edge_function(tri[:, 0, :2], tri[:, 1, :2], tri[:, 2, :2])
    ok = (tri[..., 2] > NEAR).all(dim=-1) & (area.abs() > 1e-12)
    return ok & torch.isfinite(tri).all(dim=-1).all(dim=-1)


def edge_function(a: Tensor, b: Tensor, p: Tensor) -> Tensor:
    """Twice the signed area of triangle (a, b, p); positive when p is left of a -> b."""
    return (b[..., 0] - a[..., 0]) * (p[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (
        p[..., 0] - a[..., 0]
    )


def screen_barycentrics(tri_xy: Tensor, p: Tensor) -> Tensor:
    """Screen-space barycentrics (..., 3) of points p (..., 2) in triangles tri_xy (..., 3, 2)."""
    a, b, c = tri_xy[..., 0, :], tri_xy[..., 1, :], tri_xy[..., 2, :]
    area = edge_function(a, b, c)
    w = torch.stack([edge_function(b, c, p), edge_function(c, a, p), edge_function(a, b, p)], -1)
    return w / area.unsqueeze(-1)


def face_pixel_pairs(
    tri_xy: Tensor,
    valid: Tensor,
    size: int,
    pad: float = 0.0,
    max_pairs: int = MAX_PAIRS,
    wanted: Tensor | None = None,
) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """Yield chunks of (face index, pixel row, pixel column) for pixels in each face's box.

    ``tri_xy`` (N, 3, 2) is in NDC; each face's bounding box is grown by ``pad`` NDC units and
    clipped to the image. Invalid faces get no pixels. A chunk holds about ``max_pairs`` pairs.
    ``wanted`` (B, H, W) bool, with N = B x F faces mesh after mesh, skips every face whose box
    holds no wanted pixel of its image (checked in O(1) per face with a summed-area table).
    """
    # No torch.no_grad() here: a context held open across ``yield`` would leak into the caller.
    tri_xy = tri_xy.detach()
    scale = size / 2.0
    xy = torch.where(valid[:, None, None], tri_xy, torch.zeros_like(tri_xy))
    col = (xy[..., 0] + 1) * scale - 0.5  # continuous pixel coordinates of the corners
    row = (1 - xy[..., 1]) * scale - 0.5
    p = pad * scale
    c0 = torch.ceil(col.min(dim=1).values - p).clamp(0, size).long()
    c1 = torch.floor(col.max(dim=1).values + p).clamp(-1, size - 1).long()
    r0 = torch.ceil(row.min(dim=1).values - p).clamp(0, size).long()
    r1 = torch.floor(row.max(dim=1).values + p).clamp(-1, size - 1).long()
    w = (c1 - c0 + 1).clamp_min(0)
    h = (r1 - r0 + 1).clamp_min(0)
    count = torch.where(valid, w * h, torch.zeros_like(w))
    if wanted is not None:
        count = torch.where(_box_sums(wanted, r0, r1, c0, c1) > 0, count, 0)
    cum = torch.cumsum(count, 0)
    n = count.shape[0]
    start = 0
    while start < n:
        before = int(cum[start - 1]) if start > 0 else 0
        stop = int(torch.searchsorted(cum, torch.tensor(before + max_pairs), right=True))
        stop = min(max(stop, start + 1), n)
        ids = torch.arange(start, stop, device=tri_xy.device)
        k = count[start:stop]
        total = int(k.sum())
        if total > 0:
            face = torch.repeat_interleave(ids, k)
            offset = torch.cumsum(k, 0) - k
            local = torch.arange(total, device=tri_xy.device) - torch.repeat_interleave(
                offset, k
            )
            yield face, r0[face] + local // w[face], c0[face] + local % w[face]
        start = stop


def pixel_ndc(row: Tensor, col: Tensor, size: int, dtype: torch.dtype) -> Tensor:
    """NDC centres (P, 2) of pixels given by row and column indices (same as pixel_centres)."""
    x = (col.to(dtype) + 0.5) * (2.0 / size) - 1.0
    y = 1.0 - (row.to(dtype) + 0.5) * (2.0 / size)
    return torch.stack([x, y], dim=-1)


def linear_forms(flat: Tensor) -> Tensor:
    """Per face, four functions of the pixel (x, y) that are linear in screen space (N, 4, 3).

    Rows 0-2 are the screen-space barycentrics b_i(x, y) = (A_i x + B_i y + C_i) (the edge
    functions over twice the area); row 3 is the inverse view depth sum_i b_i / z_i, which is
    also linear in screen space. Evaluating them costs one gather per (face, pixel) pair.
    """
    xy, z = flat[..., :2], flat[..., 2]
    u, v = xy.roll(-1, dims=1), xy.roll(-2, dims=1)  # edge opposite corner i runs u -> v
    coef = torch.stack(
        [-(v[..., 1] - u[..., 1]), v[..., 0] - u[..., 0],
         (v[..., 1] - u[..., 1]) * u[..., 0] - (v[..., 0] - u[..., 0]) * u[..., 1]],
        dim=-1,
    )  # (N, 3, 3): edge function of the edge opposite each corner
    area = edge_function(xy[:, 0], xy[:, 1], xy[:, 2])
    bary = coef / area[:, None, None]
    inv_z = (bary / z.clamp_min(NEAR)[..., None]).sum(dim=1, keepdim=True)
    return torch.cat([bary, inv_z], dim=1)


@torch.no_grad()
def zbuffer(flat: Tensor, n_faces: int, size: int, max_pairs: int = MAX_PAIRS) -> Tensor:
    """Nearest covering face per pixel, without gradient: (B * H * W,) long, -1 on background.

    ``flat`` (B * F, 3, 3) holds the corners (NDC x, y, view depth) of the F faces of each of
    the B meshes, mesh after mesh; the result indexes into it (``// F`` is the mesh).
    """
    bsz = flat.shape[0] // n_faces
    hw = size * size
    valid = valid_faces(flat)
    forms = linear_forms(torch.where(valid[:, None, None], flat, torch.ones_like(flat)))
    zbuf = torch.full((bsz * hw,), float("inf"), dtype=flat.dtype, device=flat.device)
    hits_face, hits_pix, hits_z = [], [], []
    for face, r, c in face_pixel_pairs(flat[..., :2], valid, size, 0.0, max_pairs):
        p = pixel_ndc(r, c, size, flat.dtype)
        k = forms[face]  # (P, 4, 3)
        vals = k[..., 0] * p[:, :1] + k[..., 1] * p[:, 1:] + k[..., 2]
        inside = vals[:, :3].min(dim=1).values >= 0
        face, z = face[inside], 1.0 / vals[inside, 3]
        gpix = r[inside] * size + c[inside] + (face // n_faces) * hw
        zbuf.scatter_reduce_(0, gpix, z, reduce="amin")
        hits_face.append(face)
        hits_pix.append(gpix)
        hits_z.append(z)
    winner = torch.full((bsz * hw,), bsz * n_faces, dtype=torch.long, device=flat.device)
    if hits_face:
        face, gpix, z = torch.cat(hits_face), torch.cat(hits_pix), torch.cat(hits_z)
        best = z <= zbuf[gpix]
        winner.scatter_reduce_(0, gpix[best], face[best], reduce="amin")  # ties: lowest index
    return torch.where(winner < bsz * n_faces, winner, -1)


def _box_sums(wanted: Tensor, r0: Tensor, r1: Tensor, c0: Tensor, c1: Tensor) -> Tensor:
    """Number of wanted pixels in each face's box [r0, r1] x [c0, c1] (N faces, B images)."""
    bsz, size = wanted.shape[0], wanted.shape[-1]
    sat = torch.zeros(bsz, size + 1, size + 1, dtype=torch.long, device=wanted.device)
    sat[:, 1:, 1:] = wanted.long().cumsum(1).cumsum(2)
    img = torch.arange(r0.shape[0], device=wanted.device) // (r0.shape[0] // bsz)
    r1, c1 = r1.clamp_min(r0 - 1) + 1, c1.clamp_min(c0 - 1) + 1
    r0, c0 = r0.clamp_max(size), c0.clamp_max(size)
    return sat[img, r1, c1] - sat[img, r0, c1] - sat[img, r1, c0] + sat[img, r0, c0]


def rasterize(
    verts_ndc: Tensor, faces: Tensor, size: int, max_pairs: int = MAX_PAIRS
) -> Fragments:
    """Rasterise B meshes (verts_ndc (B, V, 3): NDC x, y and view depth) into size x size.

    ``faces`` is (F, 3), shared by the batch, or (B, F, 3). Returns :class:`Fragments` whose
    ``bary`` and ``depth`` carry gradients to ``verts_ndc`` on covered pixels.
    """
    bsz = verts_ndc.shape[0]
    hw = size * size
    tri = batched_faces(verts_ndc, faces)  # (B, F, 3, 3)
    n_faces = tri.shape[1]
    flat = tri.reshape(-1, 3, 3)
    centres = pixel_centres(size, flat.dtype, flat.device).reshape(-1, 2)
    with torch.no_grad():
        winner = zbuffer(flat.detach(), n_faces, size, max_pairs)  # global face id or -1
        covered = winner >= 0
        fg = covered.nonzero().squeeze(1)
        fg_face = winner[fg]

    # Differentiable recomputation for the winning face of each covered pixel.
    corners = flat[fg_face]  # (P, 3, 3)
    b_screen = screen_barycentrics(corners[..., :2], centres[fg % hw])
    weighted = b_screen / corners[..., 2]
    inv_z = weighted.sum(dim=-1, keepdim=True)
    bary = torch.zeros(bsz * hw, 3, dtype=flat.dtype, device=flat.device)
    bary = bary.index_put((fg,), weighted / inv_z)
    depth = torch.full((bsz * hw,), float("inf"), dtype=flat.dtype, device=flat.device)
    depth = depth.index_put((fg,), 1.0 / inv_z.squeeze(-1))
    face_idx = torch.where(covered, winner % n_faces, -1)
    shape = (bsz, size, size)
    return Fragments(face_idx.reshape(shape), bary.reshape(*shape, 3), depth.reshape(shape))


def interpolate(attrs: Tensor, faces: Tensor, fragments: Fragments) -> Tensor:
    """Barycentric interpolation of vertex attributes (B, V, C) -> (B, H, W, C), 0 on background."""
    bsz = fragments.face.shape[0]
    if attrs.shape[0] == 1 and bsz > 1:
        attrs = attrs.expand(bsz, *attrs.shape[1:])
    face = fragments.face.clamp_min(0)
    b = torch.arange(bsz, device=face.device)[:, None, None]
    vidx = faces[face] if faces.dim() == 2 else faces[b, face]  # (B, H, W, 3)
    corner = attrs[b[..., None], vidx]  # (B, H, W, 3, C)
    out = (fragments.bary.unsqueeze(-1).to(attrs) * corner).sum(dim=-2)
    return out * fragments.mask.unsqueeze(-1).to(out)
