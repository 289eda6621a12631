"""Lecture 1 by hand: a multi-layer network and backpropagation through it.

A network is a chain ``f = f_L o ... o f_1``. Backpropagation applies the chain rule
from the loss backwards,

    dL/dx_{k-1} = dL/dx_k * dx_k/dx_{k-1},

each layer turning the gradient of its output into the gradient of its input while
storing the gradients of its own weights (see :mod:`introdl.scratch.layers`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from introdl.scratch.layers import Dense, Layer, ReLU, Sigmoid, Tanh

ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class Sequential(Layer):
    """Layers applied in order; ``backward`` walks them in reverse.

    Args:
        layers: the pieces, e.g. ``[Dense(64, 32), ReLU(), Dense(32, 10)]``.
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, grad: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            grad = layer.backward(grad)  # chain rule, one link at a time
        return grad

    def params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [p for layer in self.layers for p in layer.params()]


def mlp(sizes: Sequence[int], activation: str = "relu", seed: int = 0,
        dtype: type = np.float64) -> Sequential:
    """Dense layers of the given widths with ``activation`` between them (none at the end).

    ``mlp([64, 32, 10])`` is ``Dense(64, 32) -> ReLU -> Dense(32, 10)``; the output is
    raw logits for the loss to take.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; use one of {list(ACTIVATIONS)}")
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Dense(n_in, n_out, rng, dtype))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return Sequential(layers)


def to_torch(net: Sequential):
    """The same network as a ``torch.nn.Sequential`` with copied weights (for parity checks).

    ``Dense`` becomes ``nn.Linear`` (whose weight is ``W^T``, shape (n_out, n_in)).
    """
    import torch
    from torch import nn

    mods: list[nn.Module] = []
    for layer in net.layers:
        if isinstance(layer, Dense):
            lin = nn.Linear(*layer.W.shape, dtype=torch.from_numpy(layer.W).dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.W.T))
                lin.bias.copy_(torch.from_numpy(layer.b))
            mods.append(lin)
        else:
            mods.append({ReLU: nn.ReLU, Tanh: nn.Tanh, Sigmoid: nn.Sigmoid}[type(layer)]())
    return nn.Sequential(*mods)
