"""Character vocabulary shared by the character-level sequence models."""

from __future__ import annotations

from dataclasses import dataclass

import torch

PAD, BOS, EOS = "\0", "\x02", "\x03"


@dataclass
class CharVocab:
    """Characters <-> indices; index 0 is padding."""

    itos: list[str]

    @classmethod
    def build(cls, texts: list[str]) -> CharVocab:
        return cls([PAD, BOS, EOS] + sorted(set("".join(texts)) - {PAD, BOS, EOS}))

    def __post_init__(self) -> None:
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, texts: list[str], length: int, eos: bool = False) -> torch.Tensor:
        """(N, length) int64 indices, padded with 0; unknown characters raise KeyError."""
        out = torch.zeros(len(texts), length, dtype=torch.long)
        for i, t in enumerate(texts):
            ids = [self.stoi[c] for c in t] + ([self.stoi[EOS]] if eos else [])
            out[i, : len(ids)] = torch.tensor(ids[:length])
        return out

    def decode(self, ids: torch.Tensor) -> str:
        chars = []
        for i in ids.tolist():
            c = self.itos[i]
            if c == EOS:
                break
            if c not in (PAD, BOS):
                chars.append(c)
        return "".join(chars)
