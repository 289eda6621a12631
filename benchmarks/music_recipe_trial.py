"""One trial of a `music` recipe at a CPU-time budget, scored on the validation tunes only.

The data is the `music` experiment's: O'Neill + Ryan from music21, copies removed, split
by tune with seed 0 (2,406 / 142 / 283 tunes). The test tunes are never read here.
``--extra aird`` adds another music21 collection to the *training* side only; its tunes
that share a 60-character passage with any O'Neill or Ryan tune are dropped first (the
experiment's own :func:`dedupe_tunes`), so validation and test stay exactly as they are.

Prints the validation curve, the best validation bits/char, and where the bits go on the
validation stream read as one sequence (header lines by field, tune bodies), then writes
the same as JSON.

    python benchmarks/music_recipe_trial.py --name base --json /tmp/music_base.json
    python benchmarks/music_recipe_trial.py --name h320 --hidden 320 --json /tmp/h320.json
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn

from introdl.runtime import machine_description
from introdl.sequences.music.augment import augmented_text
from introdl.sequences.music.corpus import (
    dedupe_tunes,
    join_tunes,
    load_corpus,
    split_train_val_test,
)
from introdl.sequences.music.model import CharLSTM, CharLSTMConfig, Vocab
from introdl.sequences.music.train import LN2, TBPTTConfig, train_tbptt


def line_kinds(text: str) -> list[str]:
    """For every character of ``text``: its line's header field (``"T:"``, ...) or ``"body"``."""
    kinds: list[str] = []
    for line in text.split("\n"):
        header = len(line) > 1 and line[0].isalpha() and line[1] == ":"  # not "|:" (a repeat)
        kind = line[:2] if header else "body"
        kinds += [kind] * (len(line) + 1)  # the newline belongs to its line
    return kinds[: len(text)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--name", default="trial")
    p.add_argument("--emb", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--weight-drop", type=float, default=0.0)
    p.add_argument("--copies", type=int, default=3, help="transposed copies of each tune")
    p.add_argument("--batch", type=int, default=16, help="TBPTT lanes")
    p.add_argument("--seq", type=int, default=128, help="TBPTT window")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--extra", default="", help="collections added to training only, e.g. aird")
    p.add_argument("--cpu-minutes", type=float, default=12.0)
    p.add_argument("--seed", type=int, default=0, help="initialisation (the split is seed 0)")
    p.add_argument("--json", help="also write the result here")
    a = p.parse_args()
    torch.set_num_threads(1)  # the budget is CPU time of one thread
    torch.manual_seed(a.seed)
    print(machine_description(), flush=True)

    tunes, _ = load_corpus(("oneill", "ryan"))
    tunes, _ = dedupe_tunes(tunes)
    train, val, test = split_train_val_test(tunes, 0.05, 0.1, seed=0)
    if a.extra:
        more, _ = load_corpus(tuple(a.extra.split(",")))
        kept, _ = dedupe_tunes(list(tunes) + list(more))  # the main tunes come first: all kept
        assert kept[: len(tunes)] == list(tunes)
        print(f"extra: {len(more)} tunes, {len(kept) - len(tunes)} kept", flush=True)
        train = list(train) + kept[len(tunes):]
    train_text, val_text, test_text = (join_tunes(t) for t in (train, val, test))
    vocab = Vocab(train_text + val_text + test_text)  # the character set only
    fit = augmented_text(train, a.copies, seed=0, vocab=vocab.chars) if a.copies else train_text
    model = CharLSTM(CharLSTMConfig(len(vocab), a.emb, a.hidden, a.layers, a.dropout,
                                    a.weight_drop))
    cfg = TBPTTConfig(a.batch, a.seq, a.lr, max_minutes=1e9, max_cpu_minutes=a.cpu_minutes,
                      eval_every_s=150, precision="auto")
    t0 = time.perf_counter()
    res = train_tbptt(model, vocab.encode(fit), vocab.encode(val_text), cfg,
                      log=lambda **k: print(a.name, k, flush=True))

    # where the bits go: validation as one stream, best weights (train_tbptt restored them)
    model.eval()
    ids = vocab.encode(val_text)
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
        bits = nn.functional.cross_entropy(logits[0].float(), ids[1:], reduction="none") / LN2
    kinds = line_kinds(val_text)[1:]  # the kind of each predicted character
    out = {"name": a.name, "args": vars(a), "machine": machine_description(),
           "best_val_bpc": res.best_val_bpc, "val_bpc": res.val_bpc, "train_bpc": res.train_bpc,
           "chars": res.chars, "cpu_seconds": res.cpu_seconds,
           "wall_seconds": time.perf_counter() - t0, "val_bpc_one_stream": float(bits.mean()),
           "by_line_kind": {}}
    for kind in sorted(set(kinds)):
        m = torch.tensor([k == kind for k in kinds])
        out["by_line_kind"][kind] = {"share_of_chars": float(m.float().mean()),
                                     "bits_per_char": float(bits[m].mean())}
    print(json.dumps(out), flush=True)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
