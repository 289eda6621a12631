"""The single-image 3D encoder: template at start, re-rendering loss that falls, a mean shape."""

from __future__ import annotations

import pytest
import torch

from introdl.content3d.cars import make_cars
from introdl.content3d.experiments.single_image_3d import render_cars, training_azimuths
from introdl.content3d.mesh import icosphere
from introdl.content3d.reconstruct import (
    FitConfig,
    MeanShape,
    Reconstructor,
    fit,
    predict,
    silhouette_iou_loss,
)


def test_untrained_decoder_gives_the_template_sphere():
    torch.manual_seed(0)
    model = Reconstructor(size=16)
    pred = predict(model, torch.rand(3, 3, 16, 16))
    verts, _ = icosphere(2)
    assert torch.allclose(pred.verts, 0.5 * verts.expand(3, -1, -1), atol=1e-6)
    assert torch.allclose(pred.colors, torch.full_like(pred.colors, 0.5))
    assert torch.allclose(pred.light_dir, torch.tensor([[0.0, 1.0, 0.0]]).expand(3, 3))
    with pytest.raises(ValueError, match="multiple of 8"):
        Reconstructor(size=20)


def test_silhouette_iou_loss_bounds():
    a = torch.zeros(2, 1, 8, 8)
    a[:, :, :4] = 1
    b = 1 - a
    assert float(silhouette_iou_loss(a, a)) == pytest.approx(0.0)
    assert float(silhouette_iou_loss(a, b)) == pytest.approx(1.0)
    half = torch.zeros_like(a)
    half[:, :, :2] = 1
    assert float(silhouette_iou_loss(half, a)) == pytest.approx(0.5)


def test_fit_lowers_the_rerendering_loss_and_mean_shape_ignores_the_image():
    cars = make_cars(6, seed=0)
    data = render_cars(cars, training_azimuths(4), 16, 25.0, 3.5, seed=0)
    assert data.rgb.shape == (6, 4, 3, 16, 16) and data.mask.shape == (6, 4, 1, 16, 16)
    again = render_cars(cars, training_azimuths(4), 16, 25.0, 3.5, seed=0)
    assert torch.equal(data.rgb, again.rgb)
    torch.manual_seed(0)
    model = Reconstructor(size=16, width=8, hidden=32, subdivisions=1)
    losses = fit(model, data, FitConfig(steps=40, batch=6, views_per_step=2), seed=0)
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5
    mean = MeanShape(hidden=32, subdivisions=1)
    fit(mean, data, FitConfig(steps=10, batch=6, views_per_step=2), seed=0)
    pred = predict(mean, data.rgb[:, 0])
    assert torch.allclose(pred.verts, pred.verts[:1].expand_as(pred.verts))
    assert not torch.allclose(pred.verts[0], 0.5 * icosphere(1)[0])  # it was fitted
