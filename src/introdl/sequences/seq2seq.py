"""Encoder-decoder (sequence-to-sequence) GRU, without and with additive attention.

Lecture 2: an encoder reads the input x_1..x_T into states h_1..h_T; a decoder writes
y_1..y_L one token at a time, p(y_t | y_<t, x). Without attention the decoder sees x
only through one fixed vector (the encoder's final state) — the bottleneck; with
attention it reads a fresh context c_t = sum_j a_tj h_j at every step. Training
minimises the cross-entropy -sum_t log p(y_t | y_<t, x) with teacher forcing.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from introdl.sequences.attention import AdditiveAttention


class Encoder(nn.Module):
    """Bidirectional GRU over embedded characters.

    Inputs: src (B, T) int64, 0 = padding. Returns: states (B, T, 2H), final (B, 2H),
    mask (B, T) bool.
    """

    def __init__(self, vocab: int, emb: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)

    def forward(self, src: torch.Tensor):
        mask = src != 0
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(self.emb(src), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, h = self.rnn(packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        final = torch.cat([h[0], h[1]], dim=-1)  # (B, 2H): last forward + last backward state
        return states, final, mask


class Decoder(nn.Module):
    """GRU cell decoder; with ``attention`` it reads a context vector every step.

    Inputs to :meth:`step`: previous token (B,), state (B, D), encoder states (B, T, E),
    mask (B, T). Returns logits (B, V), new state (B, D), attention weights (B, T) or None.
    """

    def __init__(self, vocab: int, emb: int, hidden: int, enc_dim: int, attention: bool):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.attn = AdditiveAttention(hidden, enc_dim) if attention else None
        ctx = enc_dim if attention else 0
        self.cell = nn.GRUCell(emb + ctx, hidden)
        self.out = nn.Linear(hidden + ctx, vocab)

    def step(self, y_prev, s, enc, mask):
        x = self.emb(y_prev)
        if self.attn is None:
            s = self.cell(x, s)
            return self.out(s), s, None
        c, a = self.attn(s, enc, mask)  # attend with the previous state s_{t-1}
        s = self.cell(torch.cat([x, c], dim=-1), s)
        return self.out(torch.cat([s, c], dim=-1)), s, a


class Seq2Seq(nn.Module):
    """Args:
        src_vocab, tgt_vocab: vocabulary sizes (index 0 = padding).
        emb: embedding size; hidden: encoder GRU size per direction (decoder: 2*hidden).
        attention: use additive attention (else the fixed-vector bottleneck).
        bos: index of the begin-of-sequence token fed as the first decoder input.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, emb: int = 32, hidden: int = 64,
                 attention: bool = True, bos: int = 1) -> None:
        super().__init__()
        self.encoder = Encoder(src_vocab, emb, hidden)
        self.decoder = Decoder(tgt_vocab, emb, 2 * hidden, 2 * hidden, attention)
        self.bos = bos

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, L, V) for targets ``tgt`` (B, L)."""
        enc, s, mask = self.encoder(src)
        y_prev = torch.full_like(tgt[:, 0], self.bos)
        logits = []
        for t in range(tgt.shape[1]):
            out, s, _ = self.decoder.step(y_prev, s, enc, mask)
            logits.append(out)
            y_prev = tgt[:, t]  # feed the true previous token
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, length: int):
        """Greedy decoding: ids (B, length) and attention weights (B, length, T) or None."""
        enc, s, mask = self.encoder(src)
        y = torch.full((src.shape[0],), self.bos, dtype=torch.long, device=src.device)
        ids, attn = [], []
        for _ in range(length):
            out, s, a = self.decoder.step(y, s, enc, mask)
            y = out.argmax(-1)
            ids.append(y)
            if a is not None:
                attn.append(a)
        return torch.stack(ids, 1), (torch.stack(attn, 1) if attn else None)
