"""A pinhole perspective camera: look-at view matrices, orbits and projection to NDC.

Conventions (shared by the whole :mod:`introdl.content3d` package): right-handed world with
y up; the camera looks down its own -z axis; NDC x points right and y up, both in [-1, 1]
across the (square) image; the projected z is the positive view-space depth (distance along
the optical axis, not along the ray), which is what a z-buffer compares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


def _normalize(v: Tensor, eps: float = 1e-12) -> Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(eps)


def look_at(eye: Tensor, at: Tensor | None = None, up: Tensor | None = None) -> Tensor:
    """World -> camera matrices (B, 4, 4) for cameras at ``eye`` looking at ``at`` (default origin).

    The camera's z axis points from ``at`` back to ``eye`` (so it looks down -z), x is
    ``up x z`` and y completes the right-handed frame; ``up`` defaults to world +y.
    """
    at = torch.zeros_like(eye) if at is None else at.to(eye).expand_as(eye)
    if up is None:
        up = eye.new_tensor([0.0, 1.0, 0.0]).expand_as(eye)
    up = up.to(eye).expand_as(eye)
    z = _normalize(eye - at)
    x = _normalize(torch.linalg.cross(up, z, dim=-1))
    y = torch.linalg.cross(z, x, dim=-1)
    rot = torch.stack([x, y, z], dim=-2)  # rows are the camera axes in world coordinates
    view = torch.zeros(eye.shape[0], 4, 4, dtype=eye.dtype, device=eye.device)
    view[:, :3, :3] = rot
    view[:, :3, 3] = -(rot @ eye.unsqueeze(-1)).squeeze(-1)
    view[:, 3, 3] = 1.0
    return view


def orbit(azimuth_deg: Tensor, elevation_deg: Tensor, distance: float | Tensor) -> Tensor:
    """Eye positions (B, 3) on a sphere of radius ``distance`` around the origin.

    Azimuth 0 and elevation 0 put the eye on +z (looking at the front of a mesh facing +z);
    azimuth turns about +y towards +x, elevation lifts the eye towards +y.
    """
    az = torch.deg2rad(azimuth_deg.float())
    el = torch.deg2rad(elevation_deg.float())
    d = torch.as_tensor(distance, dtype=az.dtype, device=az.device)
    return torch.stack(
        [d * torch.cos(el) * torch.sin(az), d * torch.sin(el), d * torch.cos(el) * torch.cos(az)],
        dim=-1,
    )


@dataclass
class Camera:
    """Perspective camera: a batch of view matrices (B, 4, 4) and one vertical field of view."""

    view: Tensor
    fov_deg: float = 30.0

    @property
    def focal(self) -> float:
        """NDC focal length 1 / tan(fov / 2): a point at x = depth * tan(fov/2) lands on x = 1."""
        return 1.0 / math.tan(math.radians(self.fov_deg) / 2.0)

    def to_camera(self, verts: Tensor) -> Tensor:
        """World points (B, V, 3) to camera space; a batch of 1 broadcasts against the other."""
        view = self.view.to(verts)
        rot, trans = view[:, :3, :3], view[:, :3, 3]
        return verts @ rot.transpose(1, 2) + trans.unsqueeze(1)

    def project(self, verts: Tensor) -> Tensor:
        """World points (B, V, 3) to (NDC x, NDC y, positive view depth) (B, V, 3)."""
        cam = self.to_camera(verts)
        depth = -cam[..., 2]
        safe = torch.where(depth.abs() > 1e-8, depth, torch.full_like(depth, 1e-8))
        f = self.focal
        return torch.stack([f * cam[..., 0] / safe, f * cam[..., 1] / safe, depth], dim=-1)
