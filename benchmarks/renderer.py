"""Parity with Mitsuba 3, gradient checks, and milliseconds per 128 x 128 render and backward
pass of our DIB-R-style renderer, at ~1k and ~10k faces, next to Mitsuba 3 (``scalar_rgb``,
1 ray per pixel, depth AOV) on the same mesh and camera.

Our forward is the full ``render`` call: rasterisation + z-buffer, colour interpolation with
Lambert shading, soft silhouette and depth. The backward is one ``.backward()`` of
``rgb.sum() + alpha.sum() + depth.sum()`` to the vertices. Mitsuba's time is ``mi.render`` on
an already loaded scene (its BVH build, at load, is reported separately). We report CPU time
(``time.process_time``, all threads of this process) and wall time, medians over repeats.

With ``--checks`` it first prints the parity numbers (pixels whose hard silhouette differs from
Mitsuba's, depth errors) and the gradient checks (autograd against float64 central finite
differences), and with ``--figure PATH`` it draws the duck by Mitsuba and by us.

    INTRODL_THREADS=1 .venv/bin/python benchmarks/renderer.py --checks \
        --figure docs/figures/renderer-parity.png --threads 1 2 --repeats 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import pybullet_data
import torch
import trimesh

from introdl.content3d.camera import Camera, look_at, orbit
from introdl.content3d.reference import mitsuba_scene
from introdl.content3d.renderer import render

SIZE = 128


def meshes() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Two UV spheres (about 1k and 10k faces) and the normalised pybullet duck (4.2k faces)."""
    out = {}
    for name, count in (("sphere-1k", (16, 17)), ("sphere-10k", (51, 51))):
        m = trimesh.creation.uv_sphere(count=count)
        out[name] = (torch.tensor(m.vertices, dtype=torch.float32), torch.tensor(m.faces))
    m = trimesh.load(os.path.join(pybullet_data.getDataPath(), "duck.obj"), force="mesh")
    v = torch.tensor(m.vertices, dtype=torch.float32)
    v = v - (v.max(0).values + v.min(0).values) / 2
    out["duck-4k"] = (v / v.norm(dim=1).max(), torch.tensor(m.faces))
    return out


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median CPU and wall milliseconds of ``fn`` over ``repeats`` calls (after one warm-up)."""
    fn()
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return 1000 * statistics.median(cpu), 1000 * statistics.median(wall)


def bench_ours(verts, faces, cam, repeats: int) -> dict[str, float]:
    colors = torch.rand(1, verts.shape[0], 3, generator=torch.Generator().manual_seed(0))
    light = torch.tensor([[0.3, 1.0, 1.0]])
    v = verts[None].clone().requires_grad_(True)

    def forward():
        return render(v, faces, cam, SIZE, colors=colors, light_dir=light)

    def backward():
        out = forward()
        loss = out.rgb.sum() + out.alpha.sum() + out.depth.sum()
        c0, w0 = time.process_time(), time.perf_counter()
        loss.backward()
        v.grad = None
        return time.process_time() - c0, time.perf_counter() - w0

    fwd_cpu, fwd_wall = timed(forward, repeats)
    backward()
    pairs = [backward() for _ in range(repeats)]
    bwd_cpu = 1000 * statistics.median(p[0] for p in pairs)
    bwd_wall = 1000 * statistics.median(p[1] for p in pairs)
    return {"fwd_cpu": fwd_cpu, "fwd_wall": fwd_wall, "bwd_cpu": bwd_cpu, "bwd_wall": bwd_wall}


def bench_mitsuba(verts, faces, cam, fov, repeats: int) -> dict[str, float]:
    import drjit as dr

    c0, w0 = time.process_time(), time.perf_counter()
    scene = mitsuba_scene(verts, faces, cam.view[0], fov, SIZE)
    load_cpu, load_wall = 1000 * (time.process_time() - c0), 1000 * (time.perf_counter() - w0)
    cpu, wall = timed(scene.render_depth, repeats)
    return {
        "threads": dr.thread_count(),
        "cpu": cpu,
        "wall": wall,
        "load_cpu": load_cpu,
        "load_wall": load_wall,
    }


def duck_texture() -> tuple[torch.Tensor, torch.Tensor]:
    """The duck's per-vertex UVs (V, 2) and its texture image (3, H, W) in [0, 1]."""
    import imageio.v3 as iio

    m = trimesh.load(os.path.join(pybullet_data.getDataPath(), "duck.obj"), force="mesh")
    uv = torch.tensor(m.visual.uv, dtype=torch.float32)
    img = iio.imread(os.path.join(pybullet_data.getDataPath(), "duckCM.png"))[..., :3]
    return uv, torch.tensor(img, dtype=torch.float32).permute(2, 0, 1) / 255.0


def parity(size: int = SIZE) -> list[dict[str, float]]:
    """Hard silhouette and depth against Mitsuba for two meshes and two cameras."""
    from introdl.content3d.raster import rasterize
    from introdl.content3d.reference import mitsuba_render

    rows = []
    sphere = trimesh.creation.icosphere(subdivisions=3)
    shapes = {
        "icosphere (1,280 faces, squashed)": (
            torch.tensor(sphere.vertices, dtype=torch.float32) * torch.tensor([1.0, 0.7, 0.85]),
            torch.tensor(sphere.faces),
        ),
        "duck (4,212 faces)": meshes()["duck-4k"],
    }
    for name, (verts, faces) in shapes.items():
        for az, el, dist, fov in ((30.0, 20.0, 3.0, 40.0), (-120.0, -35.0, 2.6, 55.0)):
            cam = Camera(look_at(orbit(torch.tensor([az]), torch.tensor([el]), dist)), fov)
            frags = rasterize(cam.project(verts[None]), faces, size)
            mask, depth = frags.mask[0], frags.depth[0]
            ref_mask, ref_depth = mitsuba_render(verts, faces, cam.view[0], fov, size)
            both = mask & ref_mask
            err = (depth - ref_depth).abs()[both]
            rows.append(
                {
                    "mesh": name,
                    "camera": f"az {az:g}, el {el:g}, dist {dist:g}, fov {fov:g}",
                    "covered": int(ref_mask.sum()),
                    "mask_diff": int((mask != ref_mask).sum()),
                    "depth_max_err": float(err.max()),
                    "depth_bad": int((err > 1e-3 * ref_depth[both]).sum()),
                }
            )
    return rows


def gradient_checks() -> dict[str, float]:
    """Largest |autograd - central finite difference| of rgb, depth and soft alpha (float64)."""
    from introdl.content3d.silhouette import soft_silhouette

    verts = torch.tensor(
        [[-0.45, -0.4, 0.1], [0.5, -0.35, -0.1], [0.05, 0.5, 0.0], [0.0, 0.0, 0.5]],
        dtype=torch.float64,
    )
    faces = torch.tensor([[0, 1, 3], [1, 2, 3], [2, 0, 3], [0, 2, 1]])
    cam = Camera(look_at(torch.tensor([[0.2, 0.3, 3.0]], dtype=torch.float64)), 25.0)
    colors = torch.rand(1, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    light = torch.tensor([[0.3, 0.5, 1.0]], dtype=torch.float64)
    funcs = {
        "rgb (foreground, Lambert)": lambda v: render(
            v[None], faces, cam, 16, colors=colors, light_dir=light
        ).rgb,
        "depth (foreground)": lambda v: render(v[None], faces, cam, 16).depth,
        "soft alpha (background, delta 2e-3)": lambda v: soft_silhouette(
            cam.project(v[None]), faces, 16, delta=2e-3
        ),
    }
    out = {}
    eps = 1e-6
    for name, fn in funcs.items():
        ana = torch.autograd.functional.jacobian(fn, verts).reshape(-1, verts.numel())
        num = torch.zeros_like(ana)
        for k in range(verts.numel()):
            step = torch.zeros(verts.numel(), dtype=verts.dtype)
            step[k] = eps
            step = step.reshape(verts.shape)
            num[:, k] = ((fn(verts + step) - fn(verts - step)) / (2 * eps)).reshape(-1)
        out[name] = (float((num - ana).abs().max()), float(ana.abs().max()))
    return out


def draw_figure(path: str) -> None:
    """The duck by Mitsuba (depth) and by us (depth, textured + lit rgb, soft alpha)."""
    import matplotlib

    matplotlib.use("Agg")
    from introdl.content3d.reference import mitsuba_render
    from introdl.report.plots import figure

    verts, faces = meshes()["duck-4k"]
    uv, tex = duck_texture()
    fov = 40.0
    cam = Camera(look_at(orbit(torch.tensor([30.0]), torch.tensor([20.0]), 3.0)), fov)
    out = render(
        verts[None], faces, cam, SIZE, uvs=uv[None], texture=tex[None],
        light_dir=torch.tensor([[0.3, 1.0, 1.0]]), background=1.0,
    )
    ref_mask, ref_depth = mitsuba_render(verts, faces, cam.view[0], fov, SIZE)
    mask = out.mask[0, 0] > 0
    fg = ref_depth[ref_mask]
    lo, hi = float(fg.min()), float(fg.max())
    both = mask & ref_mask
    diff = torch.where(both, (out.depth[0, 0] - ref_depth).abs(), torch.zeros(()))
    n_diff = int((mask != ref_mask).sum())
    fig, axes = figure(5, 1, size=(3.0, 3.2))
    panels = [
        ("Mitsuba 3 depth (ray traced)", torch.where(ref_mask, ref_depth, float("nan")), "viridis"),
        ("ours: z-buffer depth", torch.where(mask, out.depth[0, 0], float("nan")), "viridis"),
        (f"|depth diff|, max {float(diff.max()):.0e}; {n_diff} px differ", diff, "magma"),
        ("ours: textured, Lambert", out.rgb[0].permute(1, 2, 0).clamp(0, 1), None),
        ("ours: soft band A off the mask", out.alpha[0, 0] * (~mask), "magma"),
    ]
    for ax, (title, img, cmap) in zip(axes, panels, strict=True):
        kw = {"vmin": lo, "vmax": hi} if cmap == "viridis" else {}
        ax.imshow(img.detach().numpy(), cmap=cmap, **kw)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"figure written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--checks", action="store_true", help="print parity and gradient checks")
    parser.add_argument("--figure", default=None, help="write the parity figure here")
    args = parser.parse_args()
    import drjit as dr

    torch.set_num_threads(1)
    if args.checks:
        print("| mesh | camera | covered px (Mitsuba) | silhouette px differing | "
              "max depth error | depth px off by > 0.1% |")
        print("|---|---|---:|---:|---:|---:|")
        for r in parity():
            print(f"| {r['mesh']} | {r['camera']} | {r['covered']} | {r['mask_diff']} "
                  f"| {r['depth_max_err']:.1e} | {r['depth_bad']} |")
        print()
        print("| output | max abs(autograd - finite difference) | max abs Jacobian entry |")
        print("|---|---:|---:|")
        for name, (err, scale) in gradient_checks().items():
            print(f"| {name} | {err:.1e} | {scale:.1e} |")
        print()
    if args.figure:
        draw_figure(args.figure)
    if not args.threads:
        return

    fov = 40.0
    cam = Camera(look_at(orbit(torch.tensor([30.0]), torch.tensor([20.0]), 3.0)), fov)
    print(f"torch {torch.__version__}, image {SIZE}x{SIZE}, median of {args.repeats} repeats")
    print(
        "| mesh | faces | torch threads | ours fwd ms CPU / wall | ours bwd ms CPU / wall "
        "| Mitsuba fwd ms CPU / wall (threads) | Mitsuba scene load ms wall |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (verts, faces) in meshes().items():
        for threads in args.threads:
            torch.set_num_threads(threads)
            dr.set_thread_count(threads)
            ours = bench_ours(verts, faces, cam, args.repeats)
            ref = bench_mitsuba(verts, faces, cam, fov, args.repeats)
            print(
                f"| {name} | {faces.shape[0]} | {threads} "
                f"| {ours['fwd_cpu']:.1f} / {ours['fwd_wall']:.1f} "
                f"| {ours['bwd_cpu']:.1f} / {ours['bwd_wall']:.1f} "
                f"| {ref['cpu']:.1f} / {ref['wall']:.1f} ({ref['threads']}) "
                f"| {ref['load_wall']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
