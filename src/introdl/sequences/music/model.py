"""Lecture 2: a character-level LSTM language model over ABC text (the lecture's music RNN).

The model reads one character at a time and predicts the next:

    e_t = E[x_t]                          (embedding, E in R^{V x d})
    h_t, c_t = LSTM(e_t, (h_{t-1}, c_{t-1}))
    p(x_{t+1} | x_{<=t}) = softmax(W h_t + b)

and is trained to minimise the cross-entropy  L = -1/T sum_t log p(x_{t+1} | x_{<=t}),
reported as bits per character  L / ln 2.  As in the 6.S191 lab, the layers are
Embedding -> LSTM -> Linear over the vocabulary, with ``torch.nn.LSTM`` for the
recurrent layer (the gates the lecture draws, in PyTorch's fused kernel).

A checkpoint holds the weights, the vocabulary and the model config as plain
tensors, strings and numbers, so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from introdl.engine import checkpoint
from introdl.errors import UsageError
from introdl.sequences.music.attention_model import CharTransformer, CharTransformerConfig

CHECKPOINT_NAME = "music_lstm.pt"


class Vocab:
    """Characters <-> indices, sorted so the mapping is stable across runs.

    Args:
        chars: the characters (duplicates removed, sorted).
    """

    def __init__(self, chars: str) -> None:
        self.chars = "".join(sorted(set(chars)))
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` the model has never seen, in order of first use."""
        return list(dict.fromkeys(c for c in text if c not in self.stoi))

    def encode(self, text: str) -> torch.Tensor:
        """(len(text),) int64 indices; unknown characters raise KeyError."""
        return torch.tensor([self.stoi[c] for c in text], dtype=torch.long)

    def encode_known(self, text: str) -> tuple[torch.Tensor, int]:
        """Indices of the characters the model knows, and how many others were dropped."""
        ids = [self.stoi[c] for c in text if c in self.stoi]
        return torch.tensor(ids, dtype=torch.long), len(text) - len(ids)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        return "".join(self.chars[i] for i in ids)


@dataclass
class CharLSTMConfig:
    vocab_size: int = 96  # characters in the vocabulary (set from the corpus)
    emb: int = 64  # embedding size d
    hidden: int = 384  # LSTM units
    layers: int = 1  # stacked LSTM layers
    dropout: float = 0.0  # dropout on embeddings, between stacked layers and before the head
    weight_drop: float = 0.0  # DropConnect on the recurrent weights W_hh while training


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear, next-character logits at every position.

    Args:
        cfg: sizes, see :class:`CharLSTMConfig`.

    Inputs:
        x: (B, T) int64 character indices.
        state: optional ``(h, c)``, each (layers, B, hidden), carried between windows
            for truncated backpropagation through time.

    Shape:
        returns logits (B, T, V) and the new state.
    """

    def __init__(self, cfg: CharLSTMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.emb)
        self.lstm = nn.LSTM(cfg.emb, cfg.hidden, num_layers=cfg.layers, batch_first=True,
                            dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, cfg.vocab_size)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        e = self.drop(self.embed(x))  # (B, T, emb)
        if self.training and self.cfg.weight_drop > 0:
            # DropConnect (Merity et al.'s weight-dropped LSTM): one mask on each W_hh per
            # window, shared by all its time steps, so the recurrence itself is regularised
            weights = {n: (nn.functional.dropout(w, self.cfg.weight_drop) if "weight_hh" in n
                           else w) for n, w in self.lstm.named_parameters()}
            h, state = torch.func.functional_call(self.lstm, weights, (e, state))
        else:
            h, state = self.lstm(e, state)  # (B, T, hidden)
        return self.head(self.drop(h)), state  # (B, T, V)


MusicModel = CharLSTM | CharTransformer  # anything with forward(x, state) -> (logits, state)
ARCHS: dict[str, tuple[type, type]] = {"lstm": (CharLSTM, CharLSTMConfig),
                                       "attention": (CharTransformer, CharTransformerConfig)}


def save_model(path: str | os.PathLike, model: MusicModel, vocab: Vocab,
               extra: dict | None = None) -> Path:
    """Weights + vocabulary + architecture + config (+ ``extra`` numbers/strings), atomically."""
    arch = next(name for name, (cls, _) in ARCHS.items() if isinstance(model, cls))
    return checkpoint.save(path, {"state_dict": model.state_dict(), "vocab": vocab.chars,
                                  "arch": arch, "config": dataclasses.asdict(model.cfg),
                                  "extra": dict(extra or {})})


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu"
               ) -> tuple[MusicModel, Vocab, dict]:
    """Load a checkpoint written by :func:`save_model` (a file or a run folder holding one).

    Raises:
        UsageError: missing file, or not a music checkpoint.
    """
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT_NAME
    if not p.is_file():
        raise UsageError(f"no music checkpoint at {p}; train one with 'introdl run music' "
                         "and pass its run folder to --checkpoint")
    try:
        state = checkpoint.load(p, map_location=device)
        model_cls, cfg_cls = ARCHS[state.get("arch", "lstm")]  # older checkpoints: the LSTM
        vocab = Vocab(state["vocab"])
        model = model_cls(cfg_cls(**state["config"])).to(device)
        model.load_state_dict(state["state_dict"])
    except Exception as e:  # pickle errors, missing keys, shape mismatch
        raise UsageError(f"{p} is not a valid music checkpoint ({type(e).__name__}); "
                         "train one with 'introdl run music'") from e
    model.eval()
    return model, vocab, state.get("extra", {})
