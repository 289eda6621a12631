"""Gradients through a non-differentiable renderer by central finite differences (Meta-Sim).

Meta-Sim's renderer is a black box: it turns scene attributes into pixels but gives no
derivatives. The lecture's answer is to estimate them numerically. For attributes
theta (P numbers) and a render x(theta) (pixels), the central difference

    dx/dtheta_p ~ (x(theta + h_p e_p) - x(theta - h_p e_p)) / (2 h_p)

costs two renders per attribute and has O(h^2) error for a smooth render. For a hard
(aliased) raster, h must span about a pixel of motion or the difference is zero; the
estimate is then the slope of the secant, which is what training needs.

:func:`render_with_fd` wraps a render in an autograd function: the forward pass calls the
renderer, the backward pass estimates the Jacobian by central differences and chains it
with the incoming d loss / d pixels, so a loss computed from the pixels by differentiable
operations (features, MMD) back-propagates into whatever network produced theta. To first
order in h this equals the central difference of the loss itself,
(L(x(theta + h e_p)) - L(x(theta - h e_p))) / (2 h), but needs no extra loss evaluations.
:func:`central_difference` is the plain estimate for any function (a scalar loss included).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

Render = Callable[[np.ndarray], np.ndarray]


def central_difference(f: Callable[[np.ndarray], np.ndarray | float], x: np.ndarray,
                       steps: float | np.ndarray) -> np.ndarray:
    """Jacobian (P, *out) of f at x (P,) by central differences with steps h (scalar or (P,))."""
    x = np.asarray(x, dtype=np.float64)
    h = np.broadcast_to(np.asarray(steps, dtype=np.float64), x.shape)
    if np.any(h <= 0):
        raise ValueError("finite-difference steps must be positive")
    rows = []
    for p in range(len(x)):
        up, down = x.copy(), x.copy()
        up[p] += h[p]
        down[p] -= h[p]
        diff = np.asarray(f(up), dtype=np.float64) - np.asarray(f(down), dtype=np.float64)
        rows.append(diff / (2 * h[p]))
    return np.stack(rows)


class _FDRender(torch.autograd.Function):
    @staticmethod
    def forward(ctx, attrs: torch.Tensor, render: Render, steps: np.ndarray) -> torch.Tensor:
        theta = attrs.detach().cpu().double().numpy()
        ctx.render, ctx.steps, ctx.theta = render, steps, theta
        ctx.dtype, ctx.device = attrs.dtype, attrs.device
        return torch.as_tensor(np.asarray(render(theta), dtype=np.float32), device=attrs.device)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        jac = central_difference(ctx.render, ctx.theta, ctx.steps)  # (P, *image)
        g = grad_out.detach().cpu().double().numpy()
        grad = (jac * g[None]).reshape(len(jac), -1).sum(1)
        return torch.as_tensor(grad, dtype=ctx.dtype, device=ctx.device), None, None


def render_with_fd(render: Render, attrs: torch.Tensor,
                   steps: float | np.ndarray | torch.Tensor) -> torch.Tensor:
    """``render(attrs)`` as a tensor whose backward pass uses central finite differences.

    Args:
        render: attributes (P,) float64 numpy -> image (any shape) numpy; never differentiated.
        attrs: (P,) tensor (e.g. a network's output, requires_grad).
        steps: finite-difference step per attribute, in the attribute's units.
    Returns: the image as float32; ``loss(image).backward()`` fills ``attrs``' gradient
    with sum_pixels dloss/dpixel * (x(theta + h e_p) - x(theta - h e_p)) / (2 h_p).
    """
    if attrs.ndim != 1:
        raise ValueError(f"render_with_fd needs a (P,) attribute vector, got {tuple(attrs.shape)}")
    if isinstance(steps, torch.Tensor):
        steps = steps.detach().cpu().numpy()
    h = np.broadcast_to(np.asarray(steps, dtype=np.float64), (attrs.shape[0],)).copy()
    if np.any(h <= 0):
        raise ValueError("finite-difference steps must be positive")
    return _FDRender.apply(attrs, render, h)
