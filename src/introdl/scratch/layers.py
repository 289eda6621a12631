"""Lecture 1 by hand: a dense layer and the three activations, forward and backward in NumPy.

A dense layer computes ``z = x W + b`` (the perceptron's ``w0 + sum_j x_j w_j`` for
many outputs at once). Backpropagation is the chain rule, one layer at a time: given
``g = dL/dz`` from the layer above,

    dL/dW = x^T g        dL/db = sum_batch g        dL/dx = g W^T

and an activation ``a = f(z)`` passes back ``dL/dz = dL/da * f'(z)`` with

    sigmoid' = s (1 - s)      tanh' = 1 - t^2      relu' = 1[z > 0].

Each piece caches what its backward pass needs during ``forward``. They are tested
against ``torch.nn.Linear``/``torch.sigmoid``/... and ``torch.autograd`` in float64.
"""

from __future__ import annotations

import numpy as np


class Layer:
    """A piece of a network: ``forward(x)`` then ``backward(dL/dout) -> dL/dx``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(parameter, gradient)`` pairs, updated in place by an optimiser."""
        return []


class Dense(Layer):
    """Fully connected layer ``z = x W + b``.

    Args:
        n_in: input features.
        n_out: output features.
        rng: NumPy generator for the initial weights.
        dtype: float32 for speed, float64 for gradient checks.

    Shape:
        x: (N, n_in) -> z: (N, n_out). ``W`` is (n_in, n_out), ``b`` is (n_out,).

    Weights start as U(-1/sqrt(n_in), 1/sqrt(n_in)), the same law ``torch.nn.Linear`` uses.
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator | None = None,
                 dtype: type = np.float64) -> None:
        rng = rng or np.random.default_rng(0)
        bound = 1.0 / np.sqrt(n_in)
        self.W = rng.uniform(-bound, bound, size=(n_in, n_out)).astype(dtype)
        self.b = rng.uniform(-bound, bound, size=n_out).astype(dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return x @ self.W + self.b

    def backward(self, grad: np.ndarray) -> np.ndarray:
        assert self._x is not None, "call forward before backward"
        self.dW[...] = self._x.T @ grad  # dL/dW = x^T g, (n_in, n_out)
        self.db[...] = grad.sum(axis=0)  # dL/db = sum over the batch
        return grad @ self.W.T  # dL/dx = g W^T, (N, n_in)

    def params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(self.W, self.dW), (self.b, self.db)]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))``, computed without overflow for large |z|."""
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


class Sigmoid(Layer):
    """``a = 1 / (1 + e^-z)``; backward multiplies by ``a (1 - a)``. Shape-preserving."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = sigmoid(x)
        return self._a

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self._a * (1.0 - self._a)


class Tanh(Layer):
    """``a = tanh(z)``; backward multiplies by ``1 - a^2``. Shape-preserving."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = np.tanh(x)
        return self._a

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * (1.0 - self._a**2)


class ReLU(Layer):
    """``a = max(0, z)``; backward passes the gradient where ``z > 0``. Shape-preserving."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._mask = x > 0
        return x * self._mask

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self._mask
