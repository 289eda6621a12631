"""Area-weighted surface sampling, checked against trimesh.sample.sample_surface."""

from __future__ import annotations

import numpy as np
import torch
import trimesh
from scipy.stats import chisquare

from introdl.content3d.sampling import face_areas, face_normals, sample_surface

N = 40000


def _lopsided():
    """A box with faces of three different areas, moved off the origin."""
    m = trimesh.creation.box((0.4, 1.0, 1.6))
    m.apply_translation((0.3, -0.2, 0.1))
    return m


def test_areas_and_normals_match_trimesh():
    m = trimesh.creation.cone(0.5, 1.2)
    assert np.allclose(face_areas(m.vertices, m.faces).numpy(), m.area_faces)
    assert np.allclose(face_normals(m.vertices, m.faces).numpy(), m.face_normals, atol=1e-6)


def test_face_choice_follows_area_like_trimesh():
    m = _lopsided()
    expected = m.area_faces / m.area * N
    _, _, idx = sample_surface(torch.tensor(m.vertices), torch.tensor(m.faces), N, 0,
                               return_faces=True)
    ours = np.bincount(idx.numpy(), minlength=len(m.faces))
    _, ref_idx = trimesh.sample.sample_surface(m, N, seed=0)
    theirs = np.bincount(ref_idx, minlength=len(m.faces))
    assert chisquare(ours, expected).pvalue > 1e-3
    assert chisquare(theirs, expected).pvalue > 1e-3
    # both put the same share on the big faces (within sampling noise)
    assert np.abs(ours / N - theirs / N).max() < 0.015


def test_mean_point_is_the_area_weighted_centroid():
    m = trimesh.creation.cone(0.5, 1.2)  # its surface centroid is not its vertex mean
    centroid = (m.triangles_center * m.area_faces[:, None]).sum(0) / m.area
    pts, _ = sample_surface(m.vertices, m.faces, N, 1)
    ref, _ = trimesh.sample.sample_surface(m, N, seed=1)
    sem = np.asarray(ref).std(0) / np.sqrt(N)
    assert np.all(np.abs(pts.numpy().mean(0) - centroid) < 5 * sem)
    assert np.all(np.abs(np.asarray(ref).mean(0) - centroid) < 5 * sem)
    assert abs(centroid[2] - m.vertices[:, 2].mean()) > 20 * sem.max()  # the check can fail


def test_points_lie_on_their_faces_with_the_face_normal():
    m = trimesh.creation.icosphere(2, radius=0.7)  # convex: on the surface = on a face plane
    pts, nrm, idx = sample_surface(m.vertices, m.faces, 5000, 2, return_faces=True)
    p = pts.numpy().astype(np.float64)
    plane = np.einsum("fd,fd->f", m.face_normals, m.triangles_center)
    signed = p @ m.face_normals.T - plane  # distance to every face plane
    assert signed.max() < 1e-6  # inside or on every plane
    assert np.abs(signed[np.arange(len(p)), idx.numpy()]).max() < 1e-6  # on its own face
    bary = trimesh.triangles.points_to_barycentric(m.triangles[idx.numpy()], p)
    assert bary.min() > -1e-5
    assert np.allclose(nrm.numpy(), m.face_normals[idx.numpy()], atol=1e-6)


def test_same_seed_same_points_and_seed_matters():
    m = trimesh.creation.icosphere(1)
    a = sample_surface(m.vertices, m.faces, 100, 5)
    b = sample_surface(m.vertices, m.faces, 100, np.random.default_rng(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    c = sample_surface(m.vertices, m.faces, 100, 6)
    assert not torch.equal(a[0], c[0])
    assert a[0].shape == (100, 3) and a[0].dtype == torch.float32
