"""A long short-term memory (LSTM) cell written from Lecture 2's gate equations.

Hochreiter & Schmidhuber (1997), with the forget gate of Gers et al. (2000). Besides
the hidden state h the cell keeps a cell state c, changed only by gated addition::

    i_t = sigmoid(W_ii x_t + W_hi h_{t-1} + b_i)       input gate: what to write
    f_t = sigmoid(W_if x_t + W_hf h_{t-1} + b_f)       forget gate: what to keep
    g_t = tanh(W_ig x_t + W_hg h_{t-1} + b_g)          candidate values
    o_t = sigmoid(W_io x_t + W_ho h_{t-1} + b_o)       output gate: what to show
    c_t = f_t * c_{t-1} + i_t * g_t                    cell update
    h_t = o_t * tanh(c_t)                              output

Because dc_t/dc_{t-1} = f_t (elementwise, no weight matrix, no squashing), gradients
flow back through c uninterrupted while the forget gate stays open — the lecture's
"gated cells" fix for vanishing gradients.

The four gates' weights are stacked in torch's order (i, f, g, o), so
:class:`LSTMCell` and :class:`LSTM` equal ``torch.nn.LSTMCell`` / ``torch.nn.LSTM``
(one layer, ``batch_first=True``) given the same weights (b = b_ih + b_hh).
"""

from __future__ import annotations

import torch
from torch import nn


class LSTMCell(nn.Module):
    """One LSTM step, gate by gate.

    Args:
        input_size: features per time step (D).
        hidden_size: size of h and c (H).
        forget_bias: added to b_f at initialisation (1.0 is Jozefowicz et al., 2015's
            advice; 0.0 is torch's default initialisation exactly).

    Inputs:
        x_t: (B, D); state: (h, c), each (B, H).

    Returns:
        (h_t, c_t), each (B, H).
    """

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 0.0) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        # The four gates' matrices stacked row-wise: [W_i; W_f; W_g; W_o].
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(4 * hidden_size))  # [b_i; b_f; b_g; b_o]
        self.reset_parameters(forget_bias)

    def reset_parameters(self, forget_bias: float = 0.0) -> None:
        k = self.hidden_size ** -0.5
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)  # torch.nn.LSTM's default
        with torch.no_grad():
            self.bias[self.hidden_size: 2 * self.hidden_size] += forget_bias

    def forward(
        self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        z = x_t @ self.weight_ih.T + h @ self.weight_hh.T + self.bias  # (B, 4H): all gates at once
        zi, zf, zg, zo = z.chunk(4, dim=1)  # (B, H) each, torch's gate order i, f, g, o
        i = torch.sigmoid(zi)  # i_t = sigmoid(W_i [x_t, h_{t-1}] + b_i)
        f = torch.sigmoid(zf)  # f_t = sigmoid(W_f [x_t, h_{t-1}] + b_f)
        g = torch.tanh(zg)  # g_t = tanh(W_g [x_t, h_{t-1}] + b_g)
        o = torch.sigmoid(zo)  # o_t = sigmoid(W_o [x_t, h_{t-1}] + b_o)
        c = f * c + i * g  # c_t = f_t * c_{t-1} + i_t * g_t
        h = o * torch.tanh(c)  # h_t = o_t * tanh(c_t)
        return h, c

    @torch.no_grad()
    def load_torch(self, cell: nn.LSTMCell | nn.LSTM) -> LSTMCell:
        """Copy ``torch.nn.LSTMCell`` (or a one-layer ``nn.LSTM``) weights in; returns self."""
        if isinstance(cell, nn.LSTM):
            if cell.num_layers != 1 or cell.bidirectional or cell.proj_size:
                raise ValueError("load_torch needs a one-layer, one-direction nn.LSTM")
            w_ih, w_hh = cell.weight_ih_l0, cell.weight_hh_l0
            b = cell.bias_ih_l0 + cell.bias_hh_l0 if cell.bias else None
        else:
            w_ih, w_hh = cell.weight_ih, cell.weight_hh
            b = cell.bias_ih + cell.bias_hh if cell.bias else None
        self.weight_ih.copy_(w_ih)
        self.weight_hh.copy_(w_hh)
        self.bias.copy_(b if b is not None else torch.zeros_like(self.bias))
        return self


class LSTM(nn.Module):
    """An :class:`LSTMCell` unrolled over a sequence.

    Args:
        input_size, hidden_size, forget_bias: as :class:`LSTMCell`.

    Inputs:
        x: (B, T, D); state: optional (h0, c0), each (B, H) (zeros if omitted).

    Returns:
        hs: (B, T, H) the hidden states, and (h_T, c_T), each (B, H) — as ``nn.LSTM``
        with ``batch_first=True`` (without its leading layer dimension).
    """

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 0.0) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.cell = LSTMCell(input_size, hidden_size, forget_bias)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, _ = x.shape
        if state is None:
            zeros = x.new_zeros(B, self.hidden_size)
            state = (zeros, zeros)
        hs = []
        for t in range(T):  # the same cell (same weights) at every step
            state = self.cell(x[:, t], state)
            hs.append(state[0])
        return torch.stack(hs, dim=1), state  # (B, T, H), ((B, H), (B, H))

    def load_torch(self, lstm: nn.LSTM) -> LSTM:
        """Copy a one-layer ``torch.nn.LSTM``'s weights in; returns self."""
        self.cell.load_torch(lstm)
        return self
