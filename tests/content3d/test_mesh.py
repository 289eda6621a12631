"""The icosphere, the mesh regularisers (checked against trimesh) and loading pybullet's duck."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pybullet_data
import pytest
import torch
import trimesh

from introdl.content3d.mesh import (
    edge_length_loss,
    edges,
    icosphere,
    icosphere_size,
    laplacian_loss,
    load_mesh,
    load_textured_mesh,
    normalize,
    to_trimesh,
    uniform_laplacian,
)

DUCK = Path(pybullet_data.getDataPath()) / "duck.obj"


@pytest.mark.parametrize("s", [0, 1, 2, 3])
def test_icosphere_counts_unit_radius_and_closed(s):
    v, f = icosphere(s)
    assert v.shape == (10 * 4**s + 2, 3) and f.shape == (20 * 4**s, 3)
    assert icosphere_size(s) == (v.shape[0], f.shape[0])
    assert torch.allclose(v.norm(dim=1), torch.ones(len(v)), atol=1e-6)
    m = to_trimesh(v, f)
    assert m.is_watertight and m.is_winding_consistent and m.volume > 0  # outward faces
    assert len(edges(f)) == 3 * len(f) // 2  # closed: every edge shared by two faces


def _grid(n: int = 5):
    """A flat n x n vertex grid in the z = 0 plane, two triangles per cell."""
    xs, ys = np.meshgrid(np.arange(n, dtype=np.float32), np.arange(n, dtype=np.float32))
    v = np.stack([xs.ravel(), ys.ravel(), np.zeros(n * n, np.float32)], 1)
    f = []
    for r in range(n - 1):
        for c in range(n - 1):
            a, b, d, e = r * n + c, r * n + c + 1, (r + 1) * n + c, (r + 1) * n + c + 1
            f += [[a, b, e], [a, e, d]]
    return torch.tensor(v), torch.tensor(f)


def test_laplacian_is_zero_inside_a_flat_regular_patch_and_grows_with_a_spike():
    v, f = _grid()
    lap = uniform_laplacian(v, f).reshape(5, 5, 3)
    # interior vertices of this triangulation have 6 neighbours placed symmetrically
    assert lap[1:-1, 1:-1].abs().max() < 1e-6
    assert lap[0, 0].abs().max() > 0.1  # border vertices are pulled inwards
    spiked = v.clone()
    spiked[12, 2] = 1.0  # lift the centre vertex
    assert laplacian_loss(spiked, f) > laplacian_loss(v, f) + 0.02
    assert uniform_laplacian(spiked, f)[12, 2] == pytest.approx(1.0)


def test_laplacian_matches_trimesh_umbrella_operator_and_batches():
    v, f = icosphere(2)
    v = v * (1 + 0.2 * torch.rand(len(v), 1, generator=torch.Generator().manual_seed(0)))
    m = to_trimesh(v, f)
    avg = trimesh.smoothing.laplacian_calculation(m, equal_weight=True)  # neighbour mean
    ref = m.vertices - avg @ m.vertices
    assert np.allclose(uniform_laplacian(v, f).numpy(), ref, atol=1e-5)
    assert laplacian_loss(v, f).item() == pytest.approx((ref**2).sum(1).mean(), rel=1e-4)
    b = torch.stack([v, 2 * v])  # batched: loss is quadratic in scale
    assert laplacian_loss(b, f).item() == pytest.approx(2.5 * laplacian_loss(v, f).item(),
                                                        rel=1e-4)


def test_edge_length_loss_matches_trimesh_unique_edges():
    v, f = icosphere(1)
    m = to_trimesh(v, f)
    lengths = m.edges_unique_length
    assert edge_length_loss(v, f).item() == pytest.approx((lengths**2).mean(), rel=1e-5)
    assert edge_length_loss(v, f, target=float(lengths.mean())).item() == pytest.approx(
        lengths.var(), rel=1e-3, abs=1e-7)
    assert edge_length_loss(2 * v, f).item() == pytest.approx(4 * (lengths**2).mean(), rel=1e-5)


def test_regularisers_have_gradients():
    v, f = icosphere(1)
    v = (v * 1.3).requires_grad_(True)
    (laplacian_loss(v, f) + edge_length_loss(v, f)).backward()
    assert v.grad is not None and torch.isfinite(v.grad).all() and v.grad.abs().sum() > 0


def test_normalize_centres_and_fits_the_unit_sphere():
    v = torch.tensor([[0.0, 0, 0], [4, 2, 2], [2, 4, 0]])
    n = normalize(v)
    assert torch.allclose((n.min(0).values + n.max(0).values) / 2, torch.zeros(3), atol=1e-6)
    assert n.norm(dim=1).max().item() == pytest.approx(1.0)
    assert torch.allclose(normalize(torch.stack([v, 3 * v + 1])), torch.stack([n, n]), atol=1e-6)


def test_duck_loads_welded_closed_and_textured():
    v, f = load_mesh(DUCK)
    assert to_trimesh(v, f).is_watertight  # UV seams welded: one closed surface
    n = normalize(v)
    assert n.norm(dim=1).max().item() == pytest.approx(1.0, abs=1e-5)
    t = load_textured_mesh(DUCK)
    assert len(t.verts) > len(v)  # seams split vertices for the UV map
    assert t.uvs.shape == (len(t.verts), 2) and 0 <= t.uvs.min() and t.uvs.max() <= 1
    assert t.texture.shape[0] == 3 and t.texture.shape[1] >= 256
    assert t.colors.shape == (len(t.verts), 3)
    assert t.colors[:, 0].mean() > 0.8 and t.colors[:, 2].mean() < 0.2  # a yellow duck


def test_missing_mesh_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no mesh file"):
        load_mesh(tmp_path / "nope.obj")
    with pytest.raises(ValueError, match="subdivisions"):
        icosphere(-1)
