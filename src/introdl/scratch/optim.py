"""Lecture 1 by hand: gradient descent, with and without momentum.

Plain SGD is ``W <- W - lr * dL/dW``. Momentum keeps a running direction
``v <- mu * v + dL/dW`` and steps ``W <- W - lr * v``, the same convention as
``torch.optim.SGD(momentum=mu)`` (tested against it).
"""

from __future__ import annotations

import numpy as np


class SGD:
    """Stochastic gradient descent over ``(parameter, gradient)`` pairs, in place.

    Args:
        params: from ``network.params()``; the gradient arrays are read at each ``step``.
        lr: learning rate.
        momentum: ``mu``; 0 gives plain SGD.
    """

    def __init__(self, params: list[tuple[np.ndarray, np.ndarray]], lr: float = 0.1,
                 momentum: float = 0.0) -> None:
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self._v = [np.zeros_like(p) for p, _ in params]

    def step(self) -> None:
        for (p, g), v in zip(self.params, self._v, strict=True):
            if self.momentum:
                v *= self.momentum
                v += g  # v <- mu v + g
                p -= self.lr * v
            else:
                p -= self.lr * g  # W <- W - lr dL/dW
