"""Additive attention (Bahdanau, Cho & Bengio 2015, "Neural Machine Translation by Jointly
Learning to Align and Translate"), as Lecture 2 introduces attention.

For decoder state s and encoder states h_1..h_T:

    e_j = v^T tanh(W_s s + W_h h_j)          (alignment score)
    a   = softmax(e)   over valid j           (attention weights)
    c   = sum_j a_j h_j                        (context vector)
"""

from __future__ import annotations

import torch
from torch import nn


class AdditiveAttention(nn.Module):
    """Args:
        query_dim: size of the decoder state s.
        key_dim: size of each encoder state h_j.
        hidden: size of the alignment MLP.

    Inputs: query (B, Q), keys (B, T, K), mask (B, T) bool, True where valid.
    Returns: context (B, K), weights (B, T).
    """

    def __init__(self, query_dim: int, key_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.w_s = nn.Linear(query_dim, hidden, bias=False)
        self.w_h = nn.Linear(key_dim, hidden, bias=True)
        self.v = nn.Linear(hidden, 1, bias=False)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor | None = None):
        e = self.v(torch.tanh(self.w_s(query).unsqueeze(1) + self.w_h(keys))).squeeze(-1)  # (B, T)
        if mask is not None:
            e = e.masked_fill(~mask, float("-inf"))
        a = torch.softmax(e, dim=-1)  # (B, T)
        context = torch.bmm(a.unsqueeze(1), keys).squeeze(1)  # (B, K)
        return context, a
