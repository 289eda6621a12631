"""The rasteriser against a brute-force pixel-by-face reference, the z-buffer, interpolation."""

import torch
import trimesh

from introdl.content3d.camera import Camera, look_at
from introdl.content3d.raster import (
    interpolate,
    pixel_centres,
    rasterize,
    screen_barycentrics,
)


def brute_force(ndc: torch.Tensor, faces: torch.Tensor, size: int):
    """Nearest covering face per pixel by testing every pixel against every face (tiny sizes)."""
    p = pixel_centres(size, ndc.dtype).reshape(-1, 1, 2)
    tri = ndc[faces]  # (F, 3, 3)
    b = screen_barycentrics(tri[None, :, :, :2], p)  # (P, F, 3)
    inside = (b >= 0).all(-1) & (tri[None, :, :, 2] > 0).all(-1)
    z = 1.0 / (b / tri[None, :, :, 2]).sum(-1)
    z = torch.where(inside, z, torch.full_like(z, float("inf")))
    depth, face = z.min(dim=1)
    face = torch.where(torch.isfinite(depth), face, -1)
    return face.reshape(size, size), depth.reshape(size, size)


def sphere_ndc(subdivisions: int = 2, eye=(0.3, 0.4, 3.0)):
    m = trimesh.creation.icosphere(subdivisions=subdivisions)
    verts = torch.tensor(m.vertices, dtype=torch.float32)[None]
    faces = torch.tensor(m.faces, dtype=torch.long)
    cam = Camera(look_at(torch.tensor([eye])), fov_deg=45.0)
    return cam.project(verts), faces


def test_matches_brute_force_and_chunk_size_does_not_matter():
    ndc, faces = sphere_ndc()
    face_ref, depth_ref = brute_force(ndc[0], faces, 24)
    for max_pairs in (37, 1 << 21):
        frags = rasterize(ndc, faces, 24, max_pairs=max_pairs)
        assert (frags.face[0] == face_ref).float().mean() > 0.995  # ties at shared edges only
        assert torch.equal(frags.mask[0], face_ref >= 0)
        cover = frags.mask[0]
        assert torch.allclose(frags.depth[0][cover], depth_ref[cover], rtol=1e-5)
        assert torch.isinf(frags.depth[0][~cover]).all()


def test_z_buffer_keeps_the_nearest_face_whatever_the_order():
    verts = torch.tensor(
        [[[-0.8, -0.8, 2.0], [0.8, -0.8, 2.0], [0.0, 0.8, 2.0],
          [-0.8, 0.8, 3.0], [0.8, 0.8, 3.0], [0.0, -0.8, 3.0]]]
    )
    for faces in (torch.tensor([[0, 1, 2], [3, 4, 5]]), torch.tensor([[3, 4, 5], [0, 1, 2]])):
        frags = rasterize(verts, faces, 16)
        near = (faces == 0).any(dim=1).nonzero().item()
        both = frags.mask[0] & (frags.depth[0] < 2.5)
        assert both.sum() > 20 and (frags.face[0][both] == near).all()
        assert torch.allclose(frags.depth[0][both], torch.full_like(frags.depth[0][both], 2.0))


def test_interpolation_is_perspective_correct():
    # A slanted plane: interpolating world x must give the x where each pixel's ray hits it.
    world = torch.tensor(
        [[[-1.0, -1.0, 0.0], [1.0, -1.0, -2.0], [1.0, 1.0, -2.0], [-1.0, 1.0, 0.0]]]
    )
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    cam = Camera(look_at(torch.tensor([[0.0, 0.0, 3.0]])), fov_deg=60.0)
    ndc = cam.project(world)
    frags = rasterize(ndc, faces, 32)
    x_world = interpolate(world[..., :1], faces, frags)[0, ..., 0]
    # On the plane z = -(x + 1) the view depth is 3 - z = 4 + x, and NDC u = f x / (4 + x).
    f = cam.focal
    u = pixel_centres(32)[..., 0]
    expected = 4 * u / (f - u)
    m = frags.mask[0]
    assert m.sum() > 200
    assert torch.allclose(x_world[m], expected[m], atol=1e-4)
    assert torch.allclose(frags.depth[0][m], 4 + expected[m], atol=1e-4)
    assert (interpolate(world, faces, frags)[0][~m] == 0).all()


def test_shared_and_per_mesh_faces_agree_across_a_batch():
    ndc1, faces = sphere_ndc(1, (0.0, 0.0, 3.0))
    ndc2, _ = sphere_ndc(1, (1.0, 1.0, 2.5))
    ndc = torch.cat([ndc1, ndc2])
    shared = rasterize(ndc, faces, 20)
    per_mesh = rasterize(ndc, faces.expand(2, -1, -1), 20)
    single = rasterize(ndc2, faces, 20)
    assert torch.equal(shared.face, per_mesh.face)
    assert torch.equal(shared.face[1], single.face[0])
    assert not torch.equal(shared.face[0], shared.face[1])
