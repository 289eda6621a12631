"""Lecture 2: generating tunes from the music RNN, one character at a time.

Sampling with temperature tau draws the next character from

    p_tau(c) = softmax(logits / tau)_c

(tau -> 0: always the likeliest character; tau = 1: the model's distribution; tau > 1:
flatter, more surprising). Each new character is fed back in with the carried LSTM
state, as in the lecture. A tune ends at a blank line (ABC's tune separator) or when
``max_chars`` is reached — such a tune is *cut off* and counts as incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from introdl.errors import UsageError
from introdl.sequences.music.model import MusicModel, Vocab

DEFAULT_START = "X:1\nT:"
END = "\n\n"  # a blank line ends an ABC tune


@dataclass
class Sample:
    text: str  # the start string followed by the generated characters, END removed
    complete: bool  # True when the model ended the tune itself (blank line)


def check_start(start: str, vocab: Vocab) -> None:
    """A start string must be non-empty and use only characters the model knows."""
    if not start:
        raise UsageError("--start is empty; give the beginning of a tune, e.g. 'X:1\\nT:'")
    bad = vocab.missing(start)
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise UsageError(f"--start uses characters the model never saw: {shown}; "
                         "use only characters from the training tunes")


@torch.no_grad()
def sample_tunes(model: MusicModel, vocab: Vocab, n: int = 5, start: str = DEFAULT_START,
                 temperature: float = 0.8, max_chars: int = 1500, seed: int = 0,
                 device: torch.device | str = "cpu") -> list[Sample]:
    """Generate ``n`` tunes in parallel (a batch of n lanes), each starting with ``start``."""
    if temperature <= 0:
        raise UsageError(f"--temperature must be > 0, got {temperature}")
    if n < 1:
        raise UsageError(f"--n must be at least 1, got {n}")
    check_start(start, vocab)
    model.eval()
    g = torch.Generator(device="cpu").manual_seed(seed)
    prefix = vocab.encode(start).to(device).unsqueeze(0).expand(n, -1)  # (n, len(start))
    logits, state = model(prefix)
    out: list[list[int]] = [[] for _ in range(n)]
    done = [False] * n
    tail = [start[-1:]] * n  # last character, to spot the blank line
    complete = [False] * n
    for _ in range(max_chars):
        probs = torch.softmax(logits[:, -1].float().cpu() / temperature, dim=-1)  # (n, V)
        nxt = torch.multinomial(probs, 1, generator=g)  # (n, 1)
        for i in range(n):
            if done[i]:
                continue
            c = vocab.chars[nxt[i, 0]]
            if tail[i] + c == END:
                done[i] = complete[i] = True
                continue
            out[i].append(int(nxt[i, 0]))
            tail[i] = c
        if all(done):
            break
        logits, state = model(nxt.to(device), state)
    return [Sample((start + vocab.decode(ids)).rstrip("\n") + "\n", complete[i])
            for i, ids in enumerate(out)]
