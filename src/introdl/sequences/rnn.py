"""A recurrent neural network written from Lecture 2's equations.

At each time step the RNN folds the new input into its memory and reads an output off it::

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)        (update the hidden state)
    y_t = W_hy h_t                                 (output at step t)

The same weights are used at every step (parameter sharing across time), so the
network runs on sequences of any length. Training unrolls the loop and applies
backpropagation through time: dL/dh_{t-1} = W_hh^T (tanh'(.) * dL/dh_t), a product
of one Jacobian per step — the source of vanishing and exploding gradients.

``nonlinearity="relu"`` with ``identity_init=True`` gives the IRNN of Le, Jaitly &
Hinton (2015, https://arxiv.org/abs/1504.00941): W_hh = I, b = 0, one of the
lecture's fixes for vanishing gradients.

:class:`RNN` matches ``torch.nn.RNN`` (one layer, ``batch_first=True``) given the same
weights; :meth:`RNN.load_torch` copies them in (torch keeps two biases, b_ih + b_hh = b).
"""

from __future__ import annotations

import torch
from torch import nn

_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


class RNN(nn.Module):
    """A single-layer Elman RNN, unrolled over time by a visible Python loop.

    Args:
        input_size: features per time step (D).
        hidden_size: size of the hidden state h (H).
        output_size: size of y_t (O); ``None`` returns the hidden states themselves.
        nonlinearity: ``"tanh"`` (the lecture's) or ``"relu"``.
        identity_init: W_hh = I and b = 0 (IRNN); otherwise torch.nn.RNN's
            U(-1/sqrt(H), 1/sqrt(H)) initialisation.

    Inputs:
        x: (B, T, D) inputs; h0: optional (B, H) initial state (zeros if omitted).

    Returns:
        y: (B, T, O) outputs (or (B, T, H) hidden states when ``output_size`` is None),
        h_T: (B, H) the final hidden state.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int | None = None,
        nonlinearity: str = "tanh",
        identity_init: bool = False,
    ) -> None:
        super().__init__()
        if nonlinearity not in _ACTIVATIONS:
            raise ValueError(f"nonlinearity must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {nonlinearity!r}")
        self.hidden_size = hidden_size
        self.nonlinearity = nonlinearity
        self.act = _ACTIVATIONS[nonlinearity]
        self.W_xh = nn.Linear(input_size, hidden_size, bias=True)  # W_xh x_t + b
        self.W_hh = nn.Linear(hidden_size, hidden_size, bias=False)  # W_hh h_{t-1}
        self.W_hy = nn.Linear(hidden_size, output_size, bias=False) if output_size else None
        self.reset_parameters(identity_init)

    def reset_parameters(self, identity_init: bool = False) -> None:
        k = self.hidden_size ** -0.5
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)  # torch.nn.RNN's default
        if identity_init:  # Le et al. (2015): start as "remember everything" (W_hh = I)
            nn.init.eye_(self.W_hh.weight)
            nn.init.zeros_(self.W_xh.bias)
            nn.init.normal_(self.W_xh.weight, std=1e-3)

    def step(self, x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One time step: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b); (B, D), (B, H) -> (B, H)."""
        return self.act(self.W_hh(h) + self.W_xh(x_t))

    def forward(
        self, x: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        h = x.new_zeros(B, self.hidden_size) if h0 is None else h0
        states = []
        for t in range(T):  # the same weights at every step
            h = self.step(x[:, t], h)  # h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)
            states.append(h)
        hs = torch.stack(states, dim=1)  # (B, T, H)
        y = self.W_hy(hs) if self.W_hy is not None else hs  # y_t = W_hy h_t
        return y, h

    @torch.no_grad()
    def load_torch(self, rnn: nn.RNN) -> RNN:
        """Copy a one-layer ``torch.nn.RNN``'s weights in (b = b_ih + b_hh); returns self."""
        if rnn.num_layers != 1 or rnn.bidirectional or rnn.nonlinearity != self.nonlinearity:
            raise ValueError("load_torch needs a one-layer, one-direction nn.RNN with the "
                             f"same nonlinearity ({self.nonlinearity})")
        self.W_xh.weight.copy_(rnn.weight_ih_l0)
        self.W_hh.weight.copy_(rnn.weight_hh_l0)
        bias = torch.zeros_like(self.W_xh.bias)
        if rnn.bias:
            bias = rnn.bias_ih_l0 + rnn.bias_hh_l0
        self.W_xh.bias.copy_(bias)
        return self
