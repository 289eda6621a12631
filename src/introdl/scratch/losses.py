"""Lecture 1 by hand: the three losses, each with the gradient backpropagation starts from.

All take the network's raw output (logits for the classification losses, so the
exponentials stay finite) and average over the batch of ``N`` examples:

- binary cross-entropy  ``L = -1/N sum_i [y_i log s(z_i) + (1 - y_i) log(1 - s(z_i))]``,
  ``dL/dz = (s(z) - y) / N`` with ``s`` the sigmoid;
- softmax cross-entropy ``L = -1/N sum_i log softmax(z_i)[y_i]``,
  ``dL/dz = (softmax(z) - onehot(y)) / N``;
- mean squared error    ``L = 1/(N D) sum_i ||yhat_i - y_i||^2``,
  ``dL/dyhat = 2 (yhat - y) / (N D)``.

Each is tested against the formula above and against its torch counterpart.
"""

from __future__ import annotations

import numpy as np

from introdl.scratch.layers import sigmoid


class Loss:
    """``forward(output, target) -> float`` then ``backward() -> dL/doutput``."""

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, output: np.ndarray, target: np.ndarray) -> float:
        return self.forward(output, target)


class BinaryCrossEntropy(Loss):
    """``L = -1/N sum_i [y_i log s(z_i) + (1 - y_i) log(1 - s(z_i))]`` on logits ``z``.

    Shape:
        output: (N,) or (N, 1) logits; target: same number of 0/1 labels.

    ``log s(z) = -log(1 + e^-z)`` is computed as ``-logaddexp(0, -z)`` so no ``log(0)``
    appears (the same trick as ``torch.nn.BCEWithLogitsLoss``).
    """

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        z = output.reshape(-1)  # (N,)
        y = target.reshape(-1).astype(z.dtype)
        self._z, self._y, self._shape = z, y, output.shape
        log_p = -np.logaddexp(0.0, -z)  # log s(z)
        log_1mp = -np.logaddexp(0.0, z)  # log (1 - s(z))
        return float(-np.mean(y * log_p + (1.0 - y) * log_1mp))

    def backward(self) -> np.ndarray:
        return ((sigmoid(self._z) - self._y) / len(self._z)).reshape(self._shape)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise ``exp(z) / sum exp(z)``, shifted by the row max for stability."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class SoftmaxCrossEntropy(Loss):
    """``L = -1/N sum_i log softmax(z_i)[y_i]`` for integer class labels.

    Shape:
        output: (N, C) logits; target: (N,) class indices in ``0..C-1``.
    """

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        shifted = output - output.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self._p, self._y = np.exp(log_probs), target
        return float(-np.mean(log_probs[np.arange(len(target)), target]))

    def backward(self) -> np.ndarray:
        g = self._p.copy()
        g[np.arange(len(self._y)), self._y] -= 1.0  # softmax(z) - onehot(y)
        return g / len(self._y)


class MeanSquaredError(Loss):
    """``L = 1/(N D) sum_i ||yhat_i - y_i||^2`` (the mean over every element, like torch).

    Shape:
        output and target: the same shape, e.g. (N,) or (N, D).
    """

    def forward(self, output: np.ndarray, target: np.ndarray) -> float:
        self._diff = output - target.reshape(output.shape)
        return float(np.mean(self._diff**2))

    def backward(self) -> np.ndarray:
        return 2.0 * self._diff / self._diff.size
