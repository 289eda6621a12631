"""Finite differences through a non-differentiable render match known slopes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from introdl.worlds.finite_diff import central_difference, render_with_fd

H = W = 16
ROWS = 5  # the bar's height in pixels


def bar_render(theta: np.ndarray) -> np.ndarray:
    """A white bar ROWS px tall whose width theta[0] (px) is anti-aliased: numpy only.

    Column c is covered by clip(w - c, 0, 1), so the mean intensity is ROWS * w / (H * W):
    slope ROWS / (H * W) in w, exactly.
    """
    w = float(theta[0])
    img = np.zeros((H, W))
    img[:ROWS] = np.clip(w - np.arange(W), 0.0, 1.0)
    return img


def test_fd_gradient_of_a_one_parameter_render_matches_its_known_slope():
    for w in (3.3, 7.5, 11.0):
        theta = torch.tensor([w], dtype=torch.float64, requires_grad=True)
        render_with_fd(bar_render, theta, 0.25).mean().backward()
        assert float(theta.grad[0]) == pytest.approx(ROWS / (H * W), rel=1e-5)


def test_chain_through_pixels_equals_the_loss_difference_for_a_smooth_render():
    def blob(theta):  # a Gaussian blob at (theta0, theta1) with brightness theta2
        yy, xx = np.mgrid[0:H, 0:W]
        return theta[2] * np.exp(-((xx - theta[0]) ** 2 + (yy - theta[1]) ** 2) / 8.0)

    target = torch.as_tensor(blob(np.array([9.0, 6.0, 0.7])), dtype=torch.float32)

    def loss_of(img):
        return ((img - target) ** 2).sum()

    theta0 = np.array([7.0, 8.0, 1.0])
    attrs = torch.tensor(theta0, requires_grad=True)
    loss_of(render_with_fd(blob, attrs, 1e-3)).backward()
    direct = central_difference(
        lambda t: float(loss_of(torch.as_tensor(blob(t), dtype=torch.float32))), theta0, 1e-3)
    np.testing.assert_allclose(attrs.grad.numpy(), direct, rtol=1e-3, atol=1e-4)


def test_scalar_central_difference_has_second_order_error():
    x = np.array([0.3, 1.1])
    grad = central_difference(lambda t: np.sin(t).sum(), x, 1e-2)
    np.testing.assert_allclose(grad, np.cos(x), atol=2e-5)
    coarse = np.abs(central_difference(lambda t: np.sin(t).sum(), x, 0.2) - np.cos(x)).max()
    fine = np.abs(central_difference(lambda t: np.sin(t).sum(), x, 0.1) - np.cos(x)).max()
    assert coarse / fine == pytest.approx(4.0, rel=0.05)  # halving h quarters the error


def test_a_hard_raster_needs_a_pixel_sized_step():
    def hard(theta):  # the bar without anti-aliasing: a column is on if its centre is covered
        img = np.zeros((H, W))
        img[:ROWS] = (np.arange(W) + 0.5 < theta[0]).astype(float)
        return img

    theta = np.array([7.2])
    tiny = central_difference(lambda t: hard(t).mean(), theta, 0.01)
    pixel = central_difference(lambda t: hard(t).mean(), theta, 1.0)
    assert tiny[0] == 0.0
    assert pixel[0] == pytest.approx(ROWS / (H * W))


def test_bad_steps_are_refused():
    with pytest.raises(ValueError, match="positive"):
        render_with_fd(bar_render, torch.tensor([2.0]), 0.0)
