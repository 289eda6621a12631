"""Shading (Lambert, spherical harmonics), normals, texture lookup and the soft silhouette."""

import math

import torch
import trimesh

from introdl.content3d.camera import Camera, look_at
from introdl.content3d.raster import pixel_centres, rasterize
from introdl.content3d.renderer import render
from introdl.content3d.shading import lambert, sh_basis, sh_shading, vertex_normals
from introdl.content3d.silhouette import point_triangle_sq_distance, soft_silhouette
from introdl.content3d.texture import sample_texture


def sphere(subdivisions: int = 2):
    m = trimesh.creation.icosphere(subdivisions=subdivisions)
    return torch.tensor(m.vertices, dtype=torch.float32), torch.tensor(m.faces), m


def test_vertex_normals_match_trimesh_and_point_outwards():
    verts, faces, m = sphere()
    ours = vertex_normals(verts[None], faces)[0]
    theirs = torch.tensor(m.vertex_normals, dtype=torch.float32)
    assert ((ours * theirs).sum(-1) > 0.999).all()
    assert ((ours * verts).sum(-1) > 0.99).all()  # radial on a unit sphere


def test_lambert_follows_the_cosine_law():
    angles = torch.tensor([0.0, 30.0, 60.0, 89.0, 120.0])
    rad = torch.deg2rad(angles)
    normals = torch.stack([torch.sin(rad), torch.zeros_like(rad), torch.cos(rad)], -1)
    normals = normals.reshape(1, 1, 5, 3)
    albedo = torch.full((1, 1, 5, 3), 0.8)
    light = torch.tensor([[0.0, 0.0, 2.0]])  # any length: it is normalised
    cos = torch.cos(rad).clamp_min(0)
    pure = lambert(normals, albedo, light, ambient=0.0)[0, 0, :, 0]
    assert torch.allclose(pure, 0.8 * cos, atol=1e-6)
    lit = lambert(normals, albedo, light, ambient=0.3)[0, 0, :, 0]
    assert torch.allclose(lit, 0.8 * (0.3 + 0.7 * cos), atol=1e-6)


def test_sh_basis_is_orthonormal_on_the_sphere():
    # Fibonacci-lattice quadrature of the products Y_i Y_j over the unit sphere.
    n = 20000
    k = torch.arange(n, dtype=torch.float64) + 0.5
    z = 1 - 2 * k / n
    phi = math.pi * (1 + 5**0.5) * k
    r = torch.sqrt(1 - z * z)
    dirs = torch.stack([r * torch.cos(phi), r * torch.sin(phi), z], -1)
    y = sh_basis(dirs)
    gram = (y.T @ y) * (4 * math.pi / n)
    assert torch.allclose(gram, torch.eye(9, dtype=torch.float64), atol=2e-3)


def test_sh_with_only_the_dc_term_shades_uniformly():
    verts, faces, _ = sphere()
    cam = Camera(look_at(torch.tensor([[0.5, 1.0, 3.0]])), 40.0)
    coeffs = torch.zeros(1, 9)
    coeffs[0, 0] = 2.0
    out = render(verts[None], faces, cam, 32, sh_coeffs=coeffs)
    inside = out.rgb[0][:, out.mask[0, 0] > 0]
    assert inside.numel() > 100
    assert torch.allclose(inside, torch.full_like(inside, 2.0 * 0.282095), atol=1e-5)
    coeffs[0, 2] = 1.0  # add a z-linear term: now the shading varies
    varied = render(verts[None], faces, cam, 32, sh_coeffs=coeffs).rgb[0][:, out.mask[0, 0] > 0]
    assert varied.std() > 0.05


def test_sh_shading_on_known_normals():
    normals = torch.tensor([[[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]])
    coeffs = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])  # Y_1,0 = c z
    out = sh_shading(normals, torch.ones(1, 1, 2, 1), coeffs)[0, 0, :, 0]
    assert torch.allclose(out, torch.tensor([0.488603, 0.0]), atol=1e-6)


def test_texture_lookup_at_texel_centres_and_orientation():
    tex = torch.arange(2 * 4 * 6, dtype=torch.float32).reshape(1, 2, 4, 6)
    rows, cols = torch.meshgrid(torch.arange(4), torch.arange(6), indexing="ij")
    uv = torch.stack([(cols + 0.5) / 6, 1 - (rows + 0.5) / 4], -1)[None].float()  # v up
    out = sample_texture(uv, tex)  # (1, 4, 6, 2)
    assert torch.allclose(out.permute(0, 3, 1, 2), tex, atol=1e-5)
    halfway = sample_texture(torch.tensor([[[[1.0 / 6, 1 - 0.5 / 4]]]]), tex)[0, 0, 0, 0]
    assert torch.isclose(halfway, (tex[0, 0, 0, 0] + tex[0, 0, 0, 1]) / 2)


def dense_silhouette(ndc, faces, size, delta):
    """A over all faces with no cut-off (tiny sizes only)."""
    p = pixel_centres(size, ndc.dtype).reshape(-1, 1, 2)
    d2 = point_triangle_sq_distance(ndc[0][faces][None, :, :, :2], p)  # (P, F)
    return (1 - torch.prod(1 - torch.exp(-d2 / delta), dim=1)).reshape(size, size)


def test_soft_silhouette_matches_the_dense_formula():
    verts, faces, _ = sphere(1)
    cam = Camera(look_at(torch.tensor([[0.3, 0.2, 3.0]])), 45.0)
    ndc = cam.project(verts[None] * 0.8)
    for delta in (3e-4, 3e-3):
        ours = soft_silhouette(ndc, faces, 24, delta)[0]
        assert torch.allclose(ours, dense_silhouette(ndc, faces, 24, delta), atol=1e-3)
    hard = rasterize(ndc, faces, 24).mask[0]
    soft = soft_silhouette(ndc, faces, 24, 3e-3)[0]
    assert (soft[hard] == 1).all() and ((soft >= 0) & (soft <= 1)).all()
    ring = (~hard) & (soft > 0.01)
    assert ring.sum() > 10  # a soft band around the object
    wider = soft_silhouette(ndc, faces, 24, 3e-2)[0]
    assert ((~hard) & (wider > 0.01)).sum() > ring.sum()  # larger delta, wider band


def test_a_batch_of_meshes_and_views_equals_single_renders():
    verts, faces, _ = sphere(1)
    meshes = torch.stack([verts, verts * torch.tensor([1.2, 0.6, 0.9])])
    cam = Camera(look_at(torch.tensor([[0.0, 0.5, 3.0], [2.0, -1.0, 2.0]])), 40.0)
    colors = torch.rand(2, verts.shape[0], 3, generator=torch.Generator().manual_seed(1))
    light = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    both = render(meshes, faces, cam, 20, colors=colors, light_dir=light)
    for i in range(2):
        one = render(meshes[i : i + 1], faces, Camera(cam.view[i : i + 1], 40.0), 20,
                     colors=colors[i : i + 1], light_dir=light[i : i + 1])
        for key in ("rgb", "alpha", "mask", "depth"):
            assert torch.allclose(getattr(both, key)[i], getattr(one, key)[0], atol=1e-6)
    assert not torch.allclose(both.mask[0], both.mask[1])


def test_textured_render_sends_gradients_to_the_texture_and_uvs():
    verts, faces, _ = sphere(1)
    uv = (verts[:, :2] * 0.5 + 0.5).clone().requires_grad_(True)
    tex = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(2), requires_grad=True)
    cam = Camera(look_at(torch.tensor([[0.0, 0.0, 3.0]])), 40.0)
    out = render(verts[None], faces, cam, 24, uvs=uv[None], texture=tex, background=0.5)
    assert (out.rgb[0][:, out.mask[0, 0] == 0] == 0.5).all()  # background colour off the mask
    out.rgb.sum().backward()
    assert tex.grad.abs().sum() > 0 and uv.grad.abs().sum() > 0
