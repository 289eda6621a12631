"""Render a scene graph to a camera image plus the labels synthesis gives for free.

A pinhole camera (``FOV_DEG`` horizontal field of view, square image) stands at
(0, camera_height, 0), looks along +z and is pitched down by camera_pitch (radians); world
x maps to image columns (left to right), y is up. Every pixel's ray is intersected with the
ground plane y = 0 (sky above the horizon), which gives the road (lanes of
:data:`~introdl.worlds.grammar.LANE_WIDTH`), dashed lane markings, the pavement and the
verge. Objects are cuboids (cars, pedestrians, buildings; a tree is a trunk plus a canopy):
each camera-facing face is projected and filled as a polygon (``skimage.draw.polygon``) with
a z-buffer, its depth computed exactly per pixel from the face's plane, its colour shaded by a
fixed sun (Lambert plus ambient, so faces of one box differ). A faint distance haze is mixed
in. Pure numpy, deterministic, not differentiable.

Ground truth that comes free with synthesis:

- ``segmentation``: class id per pixel, ids index :data:`CLASSES`;
- ``depth``: camera-frame z (metres along the optical axis) of the drawn surface, ``inf``
  for sky;
- ``instances``: object index + 1 per pixel (0 = background), in scene-graph pre-order;
- ``boxes`` / ``labels``: for cars and pedestrians, the 2D extent (xyxy, pixel edges, so
  ``0..size``) of the projection of the object's whole cuboid (amodal, as in KITTI), clipped
  to the image; an object is kept only if at least ``min_visible`` of its pixels are visible
  in the instance map (so fully occluded or out-of-view objects are dropped) and its clipped
  box is at least 1 pixel wide and tall. Labels are the :data:`CLASSES` ids (car = 4,
  pedestrian = 5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from skimage.draw import polygon

from introdl.worlds.grammar import LANE_WIDTH, PAVEMENT
from introdl.worlds.scene_graph import Node

CLASSES = ("sky", "ground", "road", "lane-marking", "car", "pedestrian", "building", "tree")
CLASS_ID = {c: i for i, c in enumerate(CLASSES)}
FOV_DEG = 60.0  # horizontal (= vertical) field of view
NEAR = 0.1  # faces with a corner closer than this (camera z, metres) are not drawn
SUN = np.array([-0.45, 0.8, -0.4]) / np.linalg.norm([-0.45, 0.8, -0.4])  # towards the light
AMBIENT = 0.45
HAZE = 120.0  # metres: colour mixes towards the horizon colour as 1 - exp(-depth / HAZE)
HORIZON_RGB = np.array([0.78, 0.85, 0.92])
_GROUND_RGB = {"road": (0.33, 0.33, 0.35), "lane-marking": (0.95, 0.95, 0.9),
               "pavement": (0.62, 0.6, 0.56), "verge": (0.36, 0.5, 0.27)}
# Box faces as corner indices (corner i = bit 0: +x, bit 1: +y (top), bit 2: +z); the bottom
# face lies on the ground and is never seen from above, so it is left out.
_FACES = ((2, 3, 7, 6), (1, 3, 7, 5), (0, 2, 6, 4), (4, 5, 7, 6), (0, 1, 3, 2))
_CORNERS = np.array([((i & 1) - 0.5, (i >> 1) & 1, ((i >> 2) & 1) - 0.5) for i in range(8)])
LABELLED = ("car", "pedestrian")


@dataclass
class SceneRender:
    """A rendered scene and its free ground truth (see the module docstring)."""

    image: np.ndarray  # float32 (3, H, W) in [0, 1]
    segmentation: np.ndarray  # int64 (H, W), ids into CLASSES
    depth: np.ndarray  # float32 (H, W), inf for sky
    instances: np.ndarray  # int64 (H, W), object index + 1, 0 = background
    boxes: np.ndarray  # float32 (N, 4) xyxy in pixels
    labels: np.ndarray  # int64 (N,) CLASSES ids


@dataclass
class _Camera:
    eye: np.ndarray
    rot: np.ndarray  # rows: right, up, forward (world -> camera)
    focal: float
    centre: float
    rays: np.ndarray  # (H, W, 3) world direction per pixel, unit camera z


def _camera(scene: Node, size: int) -> _Camera:
    h, p = scene.attrs["camera_height"], scene.attrs["camera_pitch"]
    right = np.array([1.0, 0.0, 0.0])
    up = np.array([0.0, math.cos(p), math.sin(p)])
    fwd = np.array([0.0, -math.sin(p), math.cos(p)])
    focal = (size / 2) / math.tan(math.radians(FOV_DEG) / 2)
    c = (size - 1) / 2  # pixel centres sit at integer coordinates
    a = (np.arange(size) - c) / focal
    rays = (a[None, :, None] * right + (-a)[:, None, None] * up + fwd)  # (row, col, 3)
    return _Camera(np.array([0.0, h, 0.0]), np.stack([right, up, fwd]), focal, c, rays)


def _ground(scene: Node, cam: _Camera, size: int):
    """Colour, class and depth of the ground plane and the sky."""
    road_half = scene.find("road")[0].attrs["width"] / 2
    n_lanes = int(scene.find("road")[0].attrs["n_lanes"])
    dy = cam.rays[..., 1]
    hit = dy < -1e-6
    t = np.where(hit, cam.eye[1] / np.where(hit, -dy, 1.0), np.inf)
    x = np.where(hit, t * cam.rays[..., 0], 0.0)
    z = np.where(hit, t * cam.rays[..., 2], 0.0)
    seg = np.where(hit, CLASS_ID["ground"], CLASS_ID["sky"]).astype(np.int64)
    rgb = np.empty((size, size, 3))
    rows = np.linspace(0.0, 1.0, size)[:, None, None]
    rgb[:] = (1 - rows) * np.array([0.42, 0.62, 0.88]) + rows * HORIZON_RGB  # sky gradient
    on_road = hit & (np.abs(x) <= road_half)
    pave = hit & ~on_road & (np.abs(x) <= road_half + PAVEMENT)
    verge = hit & ~on_road & ~pave
    rgb[verge], rgb[pave] = _GROUND_RGB["verge"], _GROUND_RGB["pavement"]
    rgb[on_road] = _GROUND_RGB["road"]
    seg[on_road] = CLASS_ID["road"]
    bounds = -road_half + LANE_WIDTH * np.arange(1, n_lanes)
    near_line = np.zeros_like(hit)
    for b in bounds:
        near_line |= np.abs(x - b) < 0.12
    marks = on_road & near_line & (np.mod(z, 6.0) < 3.0)  # dashed: 3 m on, 3 m off
    marks |= on_road & (road_half - np.abs(x) < 0.2)  # solid edge lines
    rgb[marks] = _GROUND_RGB["lane-marking"]
    seg[marks] = CLASS_ID["lane-marking"]
    return rgb, seg, t


def _cuboids(objects: list[Node]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World corners (M, 8, 3), base colours (M, 3) and object index (M,) of every cuboid;
    a tree is two cuboids (trunk and canopy), everything else one."""
    params, colours, owner = [], [], []
    for k, node in enumerate(objects):
        a = node.attrs
        rgb = (a["r"], a["g"], a["b"])
        if node.kind == "tree":
            params.append((a["x"], a["z"], 0.0, 0.3, 0.3, 0.45 * a["height"], 0.0))
            colours.append((0.4, 0.27, 0.15))
            owner.append(k)
            params.append((a["x"], a["z"], 0.0, a["width"], a["width"], a["height"],
                           0.35 * a["height"]))
        else:
            params.append((a["x"], a["z"], a["heading"], a["width"], a["length"], a["height"],
                           0.0))
        colours.append(rgb)
        owner.append(k)
    if not params:
        return np.zeros((0, 8, 3)), np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    x, z, heading, width, length, height, base = np.asarray(params, dtype=float).T
    local = _CORNERS[None] * np.stack([width, height - base, length], 1)[:, None]
    local[..., 1] += base[:, None]
    c, s = np.cos(heading)[:, None], np.sin(heading)[:, None]
    wx = x[:, None] + local[..., 0] * c + local[..., 2] * s
    wz = z[:, None] - local[..., 0] * s + local[..., 2] * c
    corners = np.stack([wx, local[..., 1], wz], axis=2)
    return corners, np.clip(np.asarray(colours), 0.0, 1.0), np.asarray(owner, dtype=np.int64)


def _face_normals(corners: np.ndarray) -> np.ndarray:
    """Outward normals (M, 5, 3) of the faces in ``_FACES`` order."""
    ex = corners[:, 1] - corners[:, 0]
    ez = corners[:, 4] - corners[:, 0]
    ex /= np.linalg.norm(ex, axis=1, keepdims=True)
    ez /= np.linalg.norm(ez, axis=1, keepdims=True)
    top = np.broadcast_to(np.array([0.0, 1.0, 0.0]), ex.shape)
    return np.stack([top, ex, -ex, ez, -ez], axis=1)


def render_scene(scene: Node, size: int = 64, min_visible: int = 4) -> SceneRender:
    """Draw ``scene`` at ``size`` x ``size`` pixels with its segmentation, depth and boxes."""
    cam = _camera(scene, size)
    rgb, seg, depth = _ground(scene, cam, size)
    inst = np.zeros((size, size), dtype=np.int64)
    objects = [n for n in scene.walk() if n.kind in ("car", "pedestrian", "building", "tree")]
    corners, colours, owner = _cuboids(objects)
    cc = (corners - cam.eye) @ cam.rot.T  # camera frame (M, 8, 3)
    ok = (cc[..., 2] >= NEAR).all(axis=1)  # cuboids reaching behind the near plane are skipped
    zc = np.where(ok[:, None], cc[..., 2], 1.0)
    col = cam.centre + cam.focal * cc[..., 0] / zc
    row = cam.centre - cam.focal * cc[..., 1] / zc
    normals = _face_normals(corners)
    q = corners[:, [f[0] for f in _FACES]] - cam.eye  # a point of each face, from the eye
    plane = np.einsum("mfk,mfk->mf", normals, q)  # n . (q - eye): < 0 for camera-facing faces
    shade = AMBIENT + (1 - AMBIENT) * np.clip(normals @ SUN, 0.0, None)
    faces = np.asarray(_FACES)
    for m in np.nonzero(ok)[0]:
        if col[m].max() < -0.5 or col[m].min() > size - 0.5 or row[m].max() < -0.5 \
                or row[m].min() > size - 0.5:
            continue  # wholly out of view
        kind_id, k = CLASS_ID[objects[owner[m]].kind], owner[m] + 1
        for f in np.nonzero(plane[m] < 0)[0]:
            rr, cols = polygon(row[m, faces[f]], col[m, faces[f]], shape=(size, size))
            if len(rr) == 0:
                continue
            t = plane[m, f] / (cam.rays[rr, cols] @ normals[m, f])
            front = t < depth[rr, cols]
            rr, cols = rr[front], cols[front]
            depth[rr, cols] = t[front]
            rgb[rr, cols] = colours[m] * shade[m, f]
            seg[rr, cols] = kind_id
            inst[rr, cols] = k
    visible = np.bincount(inst.ravel(), minlength=len(objects) + 1)
    boxes, labels = [], []
    for k, node in enumerate(objects):
        mine = ok & (owner == k)
        if node.kind not in LABELLED or visible[k + 1] < min_visible or not mine.any():
            continue
        box = np.array([col[mine].min(), row[mine].min(), col[mine].max(), row[mine].max()])
        box = np.clip(box + 0.5, 0.0, float(size))  # pixel centres -> pixel edges
        if box[2] - box[0] >= 1.0 and box[3] - box[1] >= 1.0:
            boxes.append(box)
            labels.append(CLASS_ID[node.kind])
    finite = np.isfinite(depth)
    haze = np.where(finite, 1.0 - np.exp(-np.where(finite, depth, 0.0) / HAZE), 0.0)
    rgb = rgb * (1 - haze[..., None]) + HORIZON_RGB * haze[..., None]
    return SceneRender(
        image=np.ascontiguousarray(np.clip(rgb, 0, 1).transpose(2, 0, 1), dtype=np.float32),
        segmentation=seg, depth=depth.astype(np.float32), instances=inst,
        boxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        labels=np.asarray(labels, dtype=np.int64))


def render_batch(scenes: list[Node], size: int = 64) -> tuple[np.ndarray, list[SceneRender]]:
    """Render many scenes; returns the stacked images (N, 3, H, W) and the renders."""
    renders = [render_scene(s, size) for s in scenes]
    return np.stack([r.image for r in renders]) if renders else \
        np.zeros((0, 3, size, size), np.float32), renders
