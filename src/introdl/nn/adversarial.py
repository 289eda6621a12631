"""Pieces of adversarial domain alignment, shared by Lecture 10 (DANN, ADDA, CyCADA).

- :class:`GradientReversal` (Ganin & Lempitsky, 2015): the identity going forward,
  ``-lambda * grad`` going back, so one backward pass trains a discriminator to tell
  the domains apart and the encoder beneath it to make them indistinguishable.
- :class:`DomainDiscriminator`: a small MLP ``D(z) -> logit`` of "z came from the source".
"""

from __future__ import annotations

import torch
from torch import nn


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, lam: float) -> torch.Tensor:
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.lam * grad, None  # d(out)/d(x) = -lambda * I; nothing for lambda


def grad_reverse(x: torch.Tensor, lam: float = 1.0) -> torch.Tensor:
    """``x`` forward; ``-lam * dL/dx`` backward."""
    return _Reverse.apply(x, lam)


class GradientReversal(nn.Module):
    """The gradient reversal layer as a module; set ``lam`` as training goes on.

    Args:
        lam: the factor ``lambda >= 0`` the reversed gradient is scaled by.
    """

    def __init__(self, lam: float = 1.0) -> None:
        super().__init__()
        self.lam = lam

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.lam)


class DomainDiscriminator(nn.Module):
    """``D(z)``: logit that features ``z`` come from the source domain.

    Args:
        in_features: feature width.
        hidden: width of its two hidden layers.
        dropout: dropout after each hidden layer (DANN's and CDAN's discriminators use 0.5).

    Shape:
        - Input: ``(N, in_features)``; Output: ``(N,)`` logits.
    """

    def __init__(self, in_features: int, hidden: int = 256, dropout: float = 0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).squeeze(1)
