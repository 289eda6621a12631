"""Turntable views of a mesh: N renders from evenly spaced azimuths, saved as a PNG strip or GIF.

Each frame is :func:`introdl.content3d.renderer.render` of the mesh (placed as given, the
camera orbiting the origin at a fixed elevation and distance, looking at the origin), lit by
Lambert shading from a light over the camera's shoulder, on a white background. Files are
written atomically (a temporary sibling renamed into place); ``imageio`` encodes them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
from torch import Tensor

from introdl.content3d.camera import Camera, look_at, orbit
from introdl.content3d.renderer import render
from introdl.io import atomic_open


def turntable_frames(verts: Tensor, faces: Tensor, n: int = 12, size: int = 128,
                     elevation: float = 20.0, distance: float = 4.0,
                     fov_deg: float = 35.0, start: float = 0.0) -> np.ndarray:
    """``n`` renders (n, size, size, 3) uint8 of the mesh from azimuths ``start``,
    ``start + 360/n``, ... degrees (azimuth 0 looks from +z, turning towards +x).

    The defaults frame a mesh inside the unit sphere (``distance`` 4 at 35 degrees field of
    view leaves a margin).
    """
    if n < 1 or size < 8:
        raise ValueError(f"need n >= 1 frames of size >= 8, got n={n}, size={size}")
    v = torch.as_tensor(verts, dtype=torch.float32).reshape(1, -1, 3)
    f = torch.as_tensor(faces, dtype=torch.int64)
    az = start + torch.arange(n, dtype=torch.float32) * (360.0 / n)
    eye = orbit(az, torch.full((n,), elevation), distance)
    cam = Camera(look_at(eye), fov_deg=fov_deg)
    light = torch.nn.functional.normalize(eye + torch.tensor([1.0, 2.0, 0.0]) * distance, dim=1)
    frames = []
    with torch.no_grad():
        for i in range(n):  # one view at a time keeps the rasteriser's memory small
            one = Camera(cam.view[i:i + 1], fov_deg=fov_deg)
            out = render(v, f, one, size, light_dir=light[i:i + 1], ambient=0.35,
                         background=1.0)
            frames.append(out.rgb[0].permute(1, 2, 0).clamp(0, 1))
    return (torch.stack(frames).numpy() * 255 + 0.5).astype(np.uint8)


def _write(path: Path, data: bytes, force: bool) -> Path:
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass force=True to replace it")
    with atomic_open(path, "wb") as f:
        f.write(data)
    return path


def save_strip(frames: np.ndarray, path: str | os.PathLike, force: bool = False) -> Path:
    """The frames side by side in one PNG (atomic; an existing file needs ``force``)."""
    strip = np.concatenate(list(frames), axis=1)
    buf = io.BytesIO()
    iio.imwrite(buf, strip, extension=".png")
    return _write(Path(path), buf.getvalue(), force)


def save_gif(frames: np.ndarray, path: str | os.PathLike, fps: float = 8.0,
             force: bool = False) -> Path:
    """The frames as a looping GIF at ``fps`` (atomic; an existing file needs ``force``)."""
    buf = io.BytesIO()
    iio.imwrite(buf, np.asarray(frames), extension=".gif", duration=1000.0 / fps, loop=0)
    return _write(Path(path), buf.getvalue(), force)
