"""A small causal self-attention model over ABC characters, the music LSTM's alternative.

Same interface as :class:`~introdl.sequences.music.model.CharLSTM`, so the TBPTT loop,
bits per character and sampling run it unchanged: ``model(x, state) -> (logits, state)``.
An attention model has no recurrent state, so its *state* is the context itself: the
last ``context`` characters it has read (a (B, <=context) tensor of indices). Each call
attends over ``[state, x]`` with a causal mask:

    h_0 = E[c] + P[position]            (character and learned position embeddings)
    h_l = Block_l(h_{l-1})              (pre-norm: self-attention + MLP, causal)
    p(next char) = softmax(W LayerNorm(h_L))

Positions count from the first character of ``[state, x]``. Training calls see
``context`` carried characters followed by a window of at most ``window`` new ones;
longer inputs are read in chunks of ``window``, carrying the context, so every call
uses positions that training used. The blocks are PyTorch's
``nn.TransformerEncoderLayer`` (no layer is built by hand here).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class CharTransformerConfig:
    vocab_size: int = 96  # characters in the vocabulary (set from the corpus)
    dim: int = 128  # model width
    layers: int = 3  # transformer blocks
    heads: int = 4  # attention heads (dim must divide by it)
    context: int = 128  # characters carried from earlier calls (how far back it can look)
    window: int = 128  # new characters per call; longer inputs are read in chunks
    dropout: float = 0.1  # on embeddings, attention weights and block outputs

    def __post_init__(self) -> None:
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} must divide by heads {self.heads}")
        if self.context < 0 or self.window < 1:
            raise ValueError(f"context must be >= 0 and window >= 1, got {self.context}, "
                             f"{self.window}")


class CharTransformer(nn.Module):
    """Embedding + positions -> causal transformer blocks -> LayerNorm -> Linear.

    Inputs:
        x: (B, T) int64 character indices.
        state: optional (B, C) int64, the characters read before ``x`` (C <= context).

    Shape:
        returns logits (B, T, V) and the new state, (B, min(context, C + T)).
    """

    def __init__(self, cfg: CharTransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.pos = nn.Embedding(cfg.context + cfg.window, cfg.dim)
        self.drop = nn.Dropout(cfg.dropout)
        block = nn.TransformerEncoderLayer(cfg.dim, cfg.heads, 4 * cfg.dim, cfg.dropout,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(block, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.vocab_size)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[1] > self.cfg.window:  # read in chunks, carrying the context
            outs = []
            for i in range(0, x.shape[1], self.cfg.window):
                out, state = self(x[:, i : i + self.cfg.window], state)
                outs.append(out)
            return torch.cat(outs, dim=1), state
        if state is None:
            state = x.new_zeros((x.shape[0], 0))
        seq = torch.cat([_last(state, self.cfg.context), x], dim=1)  # S <= context + window
        s, t = seq.shape[1], x.shape[1]
        h = self.drop(self.embed(seq) + self.pos(torch.arange(s, device=seq.device)))
        mask = nn.Transformer.generate_square_subsequent_mask(s, device=seq.device,
                                                              dtype=h.dtype)
        h = self.blocks(h, mask=mask, is_causal=True)  # (B, S, dim)
        logits = self.head(self.norm(h[:, s - t :]))  # only the new characters: (B, T, V)
        return logits, _last(seq, self.cfg.context)


def _last(ids: torch.Tensor, n: int) -> torch.Tensor:
    """The last ``n`` columns of (B, L) ``ids`` (all of them when L <= n; none when n = 0)."""
    return ids[:, ids.shape[1] - min(ids.shape[1], n) :]
