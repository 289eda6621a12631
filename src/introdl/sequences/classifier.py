"""Many-to-one sequence classification (Lecture 2): read a whole sequence, emit one label.

    h_t = LSTM(e(x_t), h_{t-1})            e: learned embedding
    z   = pool_t h_t                        mean and max over the valid steps
    p(y | x) = softmax(W z + b)             trained with cross-entropy -log p(y* | x)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class SequenceClassifier(nn.Module):
    """Embedding -> (bidirectional) LSTM -> masked mean+max pooling -> linear logits.

    Args:
        vocab: vocabulary size (index 0 is padding and is masked out of the pooling).
        classes: number of labels.
        emb: embedding size; hidden: LSTM units per direction.
        bidirectional: read the sequence both ways.
        dropout: dropout on the pooled features.

    Inputs: x (B, T) int64. Returns: logits (B, classes).
    """

    def __init__(self, vocab: int, classes: int, emb: int = 32, hidden: int = 64,
                 bidirectional: bool = True, dropout: float = 0.2) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=bidirectional)
        feat = hidden * (2 if bidirectional else 1)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * feat, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = (x != 0).unsqueeze(-1)  # (B, T, 1)
        lengths = mask.sum((1, 2)).clamp(min=1).cpu()
        # packing keeps the backward direction from reading the padding first
        packed = pack_padded_sequence(self.emb(x), lengths, batch_first=True,
                                      enforce_sorted=False)
        h, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True,
                                   total_length=x.shape[1])  # (B, T, F)
        n = mask.sum(1).clamp(min=1)  # (B, 1)
        mean = (h * mask).sum(1) / n  # (B, F)
        mx = h.masked_fill(~mask, float("-inf")).amax(1)  # (B, F)
        mx = torch.where(torch.isfinite(mx), mx, torch.zeros_like(mx))  # all-padding rows
        return self.head(torch.cat([mean, mx], dim=-1))
