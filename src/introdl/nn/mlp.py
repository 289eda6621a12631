"""The dense (fully connected) network of Lecture 1, as ``nn.Sequential``.

Lecture 1 stacks perceptrons into layers: each hidden layer computes

    z^(k) = g(W^(k) z^(k-1) + b^(k)),   g = ReLU,

and the output layer gives class scores ``W^(L) z^(L-1) + b^(L)`` (logits). The
lecture's ``Dense(10, activation="softmax")`` becomes a plain ``Linear`` here: the
softmax lives inside ``nn.CrossEntropyLoss`` (log-softmax + negative log-likelihood),
which is the numerically stable way to compute the same loss in PyTorch.

Dropout (Lecture 1, "Regularization I") zeroes each hidden activation with
probability ``p`` during training and scales the survivors by ``1 / (1 - p)``; it
is inactive in ``eval()`` mode.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
}


class MLP(nn.Sequential):
    """Flatten -> [Linear -> activation -> Dropout] x len(hidden) -> Linear.

    Args:
        in_features: size of one flattened input (e.g. 784 for a 28x28 image).
        hidden: width of each hidden layer, e.g. ``(256, 128)``; empty gives a
            linear (softmax-regression) model.
        out_features: number of outputs (classes for classification).
        dropout: probability of zeroing each hidden activation in training; 0 adds
            no dropout layers.
        activation: ``relu``, ``sigmoid`` or ``tanh``.

    Inputs:
        x: any tensor whose trailing dimensions hold ``in_features`` numbers.

    Shape:
        - Input: ``(N, *)`` where ``prod(*) == in_features`` (e.g. ``(N, 28, 28)``).
        - Output: ``(N, out_features)`` logits (no softmax).
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        dropout: float = 0.0,
        activation: str = "relu",
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; use one of "
                             f"{', '.join(ACTIVATIONS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = [nn.Flatten()]  # (N, *) -> (N, in_features)
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))  # logits; softmax is in the loss
        super().__init__(*layers)
        self.in_features = in_features
        self.out_features = out_features

    def __getitem__(self, idx: int | slice) -> nn.Module:
        """``net[i]`` is a layer; ``net[a:b]`` a plain ``nn.Sequential`` of those layers."""
        if isinstance(idx, slice):
            return nn.Sequential(*list(self)[idx])
        return super().__getitem__(idx)
