"""Lecture 1: gradient descent on a non-convex loss surface over two weights.

The surface is a wide bowl with two Gaussian wells, a deep broad one (the global
minimum) and a shallow narrow one (a local minimum) beside the start:

    L(w) = q ||w||^2 - d_g exp(-||w - c_g||^2 / (2 s_g^2)) - d_l exp(-||w - c_l||^2 / (2 s_l^2))

Gradient descent ``w <- w - lr * dL/dw`` (gradients by ``torch.autograd``) shows the
lecture's three regimes: a small ``lr`` settles in the nearest (local) well, a stable
``lr`` steps over it and converges to the global one, and a large ``lr`` overshoots
and diverges once ``lr`` exceeds ``2 / curvature`` of the bowl (``2 / 2q``). The same
function is handed to ``torch.optim`` optimisers (momentum, Adam, Adagrad, RMSprop,
Adadelta) by name through :func:`introdl.engine.make_optimizer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from introdl.engine import make_optimizer


@dataclass(frozen=True)
class LossSurface:
    """``L(w)`` above; every parameter is a plain number so the surface is easy to vary."""

    q: float = 0.08  # bowl: L grows like q ||w||^2 far away (so too-large steps diverge)
    global_depth: float = 2.0  # d_g
    global_center: tuple[float, float] = (1.0, 0.5)  # c_g
    global_width: float = 1.5  # s_g
    local_depth: float = 1.0  # d_l
    local_center: tuple[float, float] = (-1.5, 2.0)  # c_l
    local_width: float = 0.35  # s_l: narrow, so a large enough step jumps over it

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """Loss at ``w``; shape (..., 2) -> (...)."""
        cg = w.new_tensor(self.global_center)
        cl = w.new_tensor(self.local_center)
        r_g = ((w - cg) ** 2).sum(-1)
        r_l = ((w - cl) ** 2).sum(-1)
        return (self.q * (w**2).sum(-1)
                - self.global_depth * torch.exp(-r_g / (2 * self.global_width**2))
                - self.local_depth * torch.exp(-r_l / (2 * self.local_width**2)))

    def grid(self, lim: tuple[float, float, float, float], n: int = 300):
        """``(W1, W2, L)`` arrays of shape (n, n) over ``[x0, x1] x [y0, y1]`` for contours."""
        W1, W2 = np.meshgrid(np.linspace(lim[0], lim[1], n), np.linspace(lim[2], lim[3], n))
        w = torch.from_numpy(np.stack([W1, W2], axis=-1))  # (n, n, 2)
        return W1, W2, self(w).numpy()

    def minimum(self, center: tuple[float, float]) -> tuple[np.ndarray, float]:
        """The minimum of the well around ``center``, found by L-BFGS: ``(w*, L(w*))``."""
        w = torch.tensor(center, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w], lr=1.0, max_iter=200, tolerance_grad=1e-12,
                                tolerance_change=0.0, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = self(w)
            loss.backward()
            return loss

        opt.step(closure)
        return w.detach().numpy(), float(self(w.detach()))


def descend(surface: LossSurface, optimizer: str, lr: float, steps: int,
            start: tuple[float, float], blowup: float = 1e6) -> tuple[np.ndarray, np.ndarray]:
    """Run ``steps`` updates of ``optimizer`` (a name for ``make_optimizer``) from ``start``.

    Returns the path ``(k + 1, 2)`` and the losses ``(k + 1,)``; ``k < steps`` only when
    ``|w|`` passed ``blowup`` (diverged), where the run stops before overflowing.
    """
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([w], optimizer, lr)
    path = [w.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        loss = surface(w)  # forward
        loss.backward()  # dL/dw by autograd
        opt.step()  # w <- w - lr * (the optimiser's direction)
        path.append(w.detach().clone())
        if not torch.isfinite(w).all() or w.abs().max() > blowup:
            break
    P = torch.stack(path)  # (k + 1, 2)
    return P.numpy(), surface(P).numpy()
