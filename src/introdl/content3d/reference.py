"""The maintained reference renderer: Mitsuba 3's CPU ray tracer (``scalar_rgb`` variant).

Used by the parity tests and the benchmark to check :func:`introdl.content3d.raster.rasterize`
(hard silhouette and depth) against a library renderer on the same mesh and camera. Mitsuba
traces one ray through each pixel centre (a ``stratified`` sampler with jitter off and a box
reconstruction filter) and reports, through the ``aov`` integrator, the ray distance measured
from the near-clip plane; :func:`mitsuba_depth` converts that to view depth (the z-buffer's
depth): z = t * cos(theta) + near_clip, theta the angle between the pixel's ray and the axis.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

NEAR_CLIP = 1e-3
# Mitsuba's camera looks down its local +z with +x to the left; ours looks down -z, x right.
_FLIP = np.diag([-1.0, 1.0, -1.0, 1.0])


def _mitsuba():
    import mitsuba as mi

    if mi.variant() != "scalar_rgb":
        mi.set_variant("scalar_rgb")
    return mi


@dataclass
class MitsubaScene:
    """A loaded Mitsuba scene (mesh + one perspective camera) that renders a depth AOV."""

    scene: object
    size: int
    fov_deg: float

    def render_depth(self) -> np.ndarray:
        """(size, size) view depth at each pixel centre; 0 where the ray misses."""
        mi = _mitsuba()
        t = np.array(mi.render(self.scene), dtype=np.float64)[..., 0]
        return mitsuba_depth(t, self.fov_deg)


def mitsuba_depth(t: np.ndarray, fov_deg: float) -> np.ndarray:
    """Convert Mitsuba's near-plane ray distance (H, W) to view depth; misses (t = 0) stay 0."""
    size = t.shape[0]
    tan_half = math.tan(math.radians(fov_deg) / 2.0)
    c = (np.arange(size) + 0.5) / size * 2 - 1
    xs, ys = np.meshgrid(c, -c)
    cos = 1.0 / np.sqrt(1.0 + (xs * tan_half) ** 2 + (ys * tan_half) ** 2)
    return np.where(t > 0, t * cos + NEAR_CLIP, 0.0)


def mitsuba_scene(verts: Tensor, faces: Tensor, view: Tensor, fov_deg: float, size: int):
    """Build a Mitsuba scene for one mesh (verts (V, 3), faces (F, 3)) and one view (4, 4).

    The mesh goes through a PLY file written by trimesh; the sensor's ``to_world`` is the
    inverse of our world -> camera ``view`` (with Mitsuba's axis convention).
    """
    import trimesh

    mi = _mitsuba()
    v = verts.detach().cpu().double().numpy()
    f = faces.detach().cpu().numpy()
    to_world = np.linalg.inv(view.detach().cpu().double().numpy()) @ _FLIP
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mesh.ply")
        trimesh.Trimesh(v, f, process=False).export(path)
        scene = mi.load_dict(
            {
                "type": "scene",
                "integrator": {"type": "aov", "aovs": "dd.y:depth"},
                "shape": {"type": "ply", "filename": path},
                "sensor": {
                    "type": "perspective",
                    "fov": float(fov_deg),
                    "fov_axis": "y",
                    "near_clip": NEAR_CLIP,
                    "far_clip": 1e4,
                    "to_world": mi.ScalarTransform4f(to_world.tolist()),
                    "sampler": {"type": "stratified", "sample_count": 1, "jitter": False},
                    "film": {
                        "type": "hdrfilm",
                        "width": size,
                        "height": size,
                        "rfilter": {"type": "box"},
                        "pixel_format": "rgba",
                    },
                },
            }
        )
    return MitsubaScene(scene, size, fov_deg)


def mitsuba_render(
    verts: Tensor, faces: Tensor, view: Tensor, fov_deg: float, size: int
) -> tuple[Tensor, Tensor]:
    """Mitsuba's hard mask (size, size) bool and view depth (0 on background) for one view."""
    depth = mitsuba_scene(verts, faces, view, fov_deg, size).render_depth()
    d = torch.from_numpy(depth).float()
    return d > 0, d
