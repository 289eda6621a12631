"""Autograd against float64 finite differences, and the sign test: move a vertex right and the
silhouette moves right."""

import torch
from torch.autograd import gradcheck

from introdl.content3d.camera import Camera, look_at
from introdl.content3d.raster import interpolate, rasterize
from introdl.content3d.renderer import render
from introdl.content3d.silhouette import soft_silhouette

SIZE = 16
# A small tetrahedron-like mesh seen from the front, well inside the image.
VERTS = torch.tensor(
    [[-0.45, -0.4, 0.1], [0.5, -0.35, -0.1], [0.05, 0.5, 0.0], [0.0, 0.0, 0.5]],
    dtype=torch.float64,
)
FACES = torch.tensor([[0, 1, 3], [1, 2, 3], [2, 0, 3], [0, 2, 1]])


def camera() -> Camera:
    return Camera(look_at(torch.tensor([[0.2, 0.3, 3.0]], dtype=torch.float64)), fov_deg=25.0)


def test_rgb_gradients_match_finite_differences():
    colors = torch.rand(1, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    light = torch.tensor([[0.3, 0.5, 1.0]], dtype=torch.float64)

    def rgb(verts, cols):
        out = render(verts[None], FACES, camera(), SIZE, colors=cols, light_dir=light)
        return out.rgb

    mask = render(VERTS[None], FACES, camera(), SIZE).mask
    assert mask.sum() > 30  # many interior pixels carry the barycentric gradients
    v = VERTS.clone().requires_grad_(True)
    c = colors.clone().requires_grad_(True)
    assert gradcheck(rgb, (v, c), eps=1e-6, atol=1e-5, rtol=1e-4)


def test_depth_gradients_match_finite_differences():
    def depth(verts):
        return render(verts[None], FACES, camera(), SIZE).depth

    assert gradcheck(depth, (VERTS.clone().requires_grad_(True),), eps=1e-6, atol=1e-5)


def test_soft_silhouette_gradients_match_finite_differences_outside_the_object():
    cam = camera()

    def alpha(verts):
        return soft_silhouette(cam.project(verts[None]), FACES, SIZE, delta=2e-3)

    v = VERTS.clone().requires_grad_(True)
    a = alpha(v)
    hard = rasterize(cam.project(VERTS[None]), FACES, SIZE).mask
    soft_bg = (~hard) & (a > 1e-3)
    assert soft_bg.sum() > 20  # background pixels near the edges have a soft coverage
    a[soft_bg].sum().backward()
    assert v.grad.abs().sum() > 1e-3  # ... and they pull on the vertices
    assert gradcheck(alpha, (VERTS.clone().requires_grad_(True),), eps=1e-6, atol=1e-5)


def test_gradcheck_notices_a_wrong_gradient():
    # The check above is not vacuous: a function whose backward is off by 10% fails it.
    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return 1.1 * g

    cam = camera()

    def alpha(verts):
        return soft_silhouette(cam.project(Wrong.apply(verts)[None]), FACES, SIZE, delta=2e-3)

    v = VERTS.clone().requires_grad_(True)
    assert not gradcheck(alpha, (v,), eps=1e-6, raise_exception=False)


def centroid_x(image: torch.Tensor) -> torch.Tensor:
    cols = torch.arange(image.shape[-1], dtype=image.dtype)
    return (image * cols).sum() / image.sum()


def test_vertex_moved_right_moves_the_silhouette_right():
    cam = camera()
    right = torch.zeros_like(VERTS)
    right[:, 0] = 0.1  # about one pixel at this distance
    before = render(VERTS[None], FACES, cam, SIZE)
    after = render((VERTS + right)[None], FACES, cam, SIZE)
    assert centroid_x(after.mask) > centroid_x(before.mask)
    assert centroid_x(after.alpha) > centroid_x(before.alpha)
    # ... and the gradient of the soft silhouette's centroid says the same, vertex by vertex.
    v = VERTS.clone().requires_grad_(True)
    centroid_x(render(v[None], FACES, cam, SIZE).alpha).backward()
    assert v.grad[:, 0].sum() > 0
    one = VERTS.clone()
    one[1, 0] += 0.1  # the right-most vertex alone
    assert centroid_x(render(one[None], FACES, cam, SIZE).alpha) > centroid_x(before.alpha)


def test_interpolated_attributes_get_gradients():
    cam = camera()
    verts = VERTS.clone().requires_grad_(True)
    attrs = torch.ones(1, 4, 2, dtype=torch.float64, requires_grad=True)
    frags = rasterize(cam.project(verts[None]), FACES, SIZE)
    interpolate(attrs, FACES, frags).sum().backward()
    # Barycentrics sum to 1, so constant attributes give the covered-pixel count ...
    assert torch.allclose(attrs.grad.sum(), 2 * frags.mask.sum().double())
    assert torch.allclose(verts.grad, torch.zeros_like(verts.grad), atol=1e-9)  # ... and no pull
