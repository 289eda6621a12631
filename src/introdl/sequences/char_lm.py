"""A next-character language model whose input is either a one-hot vector or a learned embedding.

Lecture 2, "encoding language for a neural network": a token index w must become a
vector before the RNN can read it. Two ways::

    one-hot:    x = e_w in {0, 1}^V                (V = vocabulary size; sparse, fixed)
    embedding:  x = E[w] in R^d,  E in R^{V x d}   (dense, learned, d << V)

The two are closer than they look: the RNN's first matrix applied to a one-hot vector,
W e_w, is column w of W — a lookup. An ``nn.Embedding`` is that lookup made explicit
and factorised, W_xh e_w ~ W' E[w], with fewer parameters when d < V.

The model predicts p(w_{t+1} | w_1..w_t) = softmax(W_hy h_t) with an LSTM over the
inputs, trained by the per-step cross-entropy
L = -(1/T) sum_t log p(w_{t+1} = target_t | w_<=t).
"""

from __future__ import annotations

import torch
from torch import nn


class OneHot(nn.Module):
    """Index -> one-hot vector; no parameters. Inputs: (B, T) int64. Returns: (B, T, V)."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(idx, self.vocab_size).float()


class CharLM(nn.Module):
    """Input encoding -> LSTM -> logits over the next character.

    Args:
        vocab_size: V.
        encoding: ``"onehot"`` or ``"embedding"``.
        embed_dim: d, the embedding size (ignored for one-hot, whose size is V).
        hidden_size: the LSTM's H.

    Inputs: (B, T) int64 token indices. Returns: (B, T, V) logits for the next token.
    """

    def __init__(self, vocab_size: int, encoding: str = "embedding", embed_dim: int = 16,
                 hidden_size: int = 128) -> None:
        super().__init__()
        if encoding == "onehot":
            self.encode: nn.Module = OneHot(vocab_size)
            in_dim = vocab_size
        elif encoding == "embedding":
            self.encode = nn.Embedding(vocab_size, embed_dim)
            in_dim = embed_dim
        else:
            raise ValueError(f"encoding must be 'onehot' or 'embedding', got {encoding!r}")
        self.encoding = encoding
        self.rnn = nn.LSTM(in_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)  # logits = W_hy h_t + b

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        hs, _ = self.rnn(self.encode(idx))  # (B, T, d or V) -> (B, T, H)
        return self.head(hs)  # (B, T, V)

    def input_parameters(self) -> int:
        """Parameters that turn a token into the LSTM's input pre-activations.

        One-hot: W_ih (4H x V). Embedding: E (V x d) plus W_ih (4H x d).
        """
        n = self.rnn.weight_ih_l0.numel()
        if isinstance(self.encode, nn.Embedding):
            n += self.encode.weight.numel()
        return n


class SequenceCrossEntropy(nn.Module):
    """Mean cross-entropy over every position. Inputs: logits (B, T, V), targets (B, T)."""

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        V = logits.shape[-1]
        return nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))  # (B*T, V)
