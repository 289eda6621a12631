"""Human-written dates -> ISO 8601: a translation task the project generates.

A date between 1950-01-01 and 2049-12-31 is written by babel's CLDR locale data in
one of several languages and styles ("12. März 1987", "jeudi 12 mars 1987",
"3/12/87" is left out because US month/day order would clash with the day/month
order of the other locales) and the target is "1987-03-12". Two-digit years follow
the pivot rule yy >= 50 -> 19yy, else 20yy, which the model must learn.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import torch
from babel.dates import format_date

LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL")
STYLES = ("short", "medium", "long", "full")
START, DAYS = dt.date(1950, 1, 1), (dt.date(2049, 12, 31) - dt.date(1950, 1, 1)).days + 1
PAD, BOS, EOS = "\0", "\x02", "\x03"


def make_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (human date, ISO date) pairs drawn uniformly over dates, locales and styles."""
    rng = np.random.default_rng(seed)
    pairs = []
    while len(pairs) < n:
        d = START + dt.timedelta(days=int(rng.integers(DAYS)))
        loc, style = LOCALES[rng.integers(len(LOCALES))], STYLES[rng.integers(len(STYLES))]
        if loc == "en_US" and style == "short":
            continue
        pairs.append((format_date(d, format=style, locale=loc), d.isoformat()))
    return pairs


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
