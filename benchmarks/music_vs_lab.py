"""The ``music`` default model vs the 6.S191 lab's reference LSTM, same data, same CPU time.

Both models train on the same tunes (O'Neill + Ryan from music21, copies dropped and
split by tune into train / validation / test with seed 0, as the ``music`` experiment
does) with the same TBPTT loop (Adam, gradient clip 1, LSTM state carried between
windows, learning rate cosine-decayed along the budget) for the same budget of CPU
time (``time.process_time`` of this process, which runs one torch thread), one after
the other. Only the recipe differs:

- ``music``: the experiment's defaults (:class:`MusicConfig`: its sizes, dropout, TBPTT
  window, lanes, learning rate and key-transposed training copies);
- ``lab``: Embedding 256, LSTM 1024, windows of 100, batch 8, Adam 5e-3, no dropout, no
  augmentation (the lab's values).

Reported per model: parameters, training CPU minutes (and wall minutes), characters
trained, bits/char on the held-out test tunes (read once, after training), bits/char
on the lab's ``irish.abc`` — a corpus neither model trains on — with characters outside
the model's vocabulary dropped (as the file is, and as its tunes read after the same
preparation as the training text: musical header fields only, ``X:1``), and the share
of ``--samples`` tunes (temperature 0.8) valid by :mod:`introdl.sequences.music.quality`.
``irish.abc`` comes from ``$INTRODL_DATA/irish/``, the cache or a download, checked
against its SHA-256; when it cannot be had its columns read "n/a".

Note: the lab samples random windows and restarts the state each batch; here both use
the same carried-state TBPTT loop, so only the model and its hyper-parameters differ.

    INTRODL_DATA=/path/to/mirror python benchmarks/music_vs_lab.py --cpu-minutes 12 --samples 20
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import torch

from introdl.errors import DataUnavailable
from introdl.runtime import machine_description
from introdl.sequences.experiments.music import MusicConfig
from introdl.sequences.music.augment import augmented_text
from introdl.sequences.music.corpus import (
    LAB_IRISH,
    dedupe_tunes,
    join_tunes,
    load_corpus,
    split_train_val_test,
)
from introdl.sequences.music.model import CharLSTM, CharLSTMConfig, Vocab
from introdl.sequences.music.quality import assess
from introdl.sequences.music.sample import sample_tunes
from introdl.sequences.music.train import TBPTTConfig, bits_per_char, train_tbptt


@dataclass
class Recipe:
    emb: int
    hidden: int
    layers: int
    dropout: float
    weight_drop: float
    seq_len: int
    batch: int
    lr: float
    key_copies: int  # transposed copies of each training tune
    precision: str = "fp32"  # fp32 | bf16 | auto (bf16 autocast where the CPU has it)


def recipes() -> dict[str, Recipe]:
    d = MusicConfig()
    return {"music (default)": Recipe(d.emb, d.hidden, d.layers, d.dropout, d.weight_drop,
                                      d.seq_len, d.batch_size, d.peak_lr(), d.key_copies,
                                      d.precision),
            "lab reference": Recipe(256, 1024, 1, 0.0, 0.0, 100, 8, 5e-3, 0)}


def irish_texts() -> dict[str, str] | None:
    """irish.abc as the file, and its tunes as the model reads tunes; None if unavailable."""
    from introdl.data.download import ensure_file

    try:
        path = ensure_file("irish", LAB_IRISH)
    except DataUnavailable as e:
        print(f"irish.abc unavailable, its columns read n/a: {e}")
        return None
    tunes, skipped = load_corpus([path])
    print(f"irish.abc: {len(tunes)} tunes ({skipped} malformed skipped)")
    return {"file": path.read_text(encoding="utf-8"), "tunes": join_tunes(tunes)}


def bench(name: str, r: Recipe, vocab: Vocab, train, val_ids, test_ids, irish,
          cpu_minutes: float, samples: int) -> dict[str, float | str]:
    train_text = join_tunes(train)
    text = augmented_text(train, r.key_copies, seed=0, vocab=vocab.chars) if r.key_copies \
        else train_text
    torch.manual_seed(0)
    model = CharLSTM(CharLSTMConfig(len(vocab), r.emb, r.hidden, r.layers, r.dropout,
                                    r.weight_drop))
    # the budget is CPU time; one evaluation, at the end, on a slice of validation
    res = train_tbptt(model, vocab.encode(text), val_ids[:4096],
                      TBPTTConfig(r.batch, r.seq_len, r.lr, max_minutes=1e9,
                                  max_cpu_minutes=cpu_minutes, eval_every_s=1e9,
                                  precision=r.precision))
    row: dict[str, float | str] = {
        "model": name, "params": sum(p.numel() for p in model.parameters()),
        "cpu_minutes": res.cpu_seconds / 60, "wall_minutes": res.seconds / 60,
        "chars": res.chars, "epochs": res.chars / len(text),
        "val_bpc": bits_per_char(model, val_ids),  # what a choice may look at
        "test_bpc": bits_per_char(model, test_ids)}  # the whole test stream, read once
    for kind in ("file", "tunes"):
        if irish is None:
            row[f"irish_{kind}_bpc"] = float("nan")
            continue
        ids, dropped = vocab.encode_known(irish[kind])
        row[f"irish_{kind}_bpc"] = bits_per_char(model, ids)
        row[f"irish_{kind}_dropped"] = dropped
    tunes = sample_tunes(model, vocab, n=samples, temperature=0.8, seed=0)
    _, q = assess([t.text for t in tunes], [t.complete for t in tunes], train_text)
    row.update(valid_share=q["valid_share"], longest_copy_median=q["longest_copy_median"])
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cpu-minutes", type=float, default=3.0,
                   help="training budget per model, CPU minutes of this process")
    p.add_argument("--samples", type=int, default=10, help="tunes sampled per model")
    p.add_argument("--only", choices=["music", "lab"], help="run one of the two models")
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args()
    torch.set_num_threads(1)  # CPU time is compared on one thread
    print(machine_description())
    tunes, _ = load_corpus(("oneill", "ryan"))
    tunes, _ = dedupe_tunes(tunes)
    train, val, test = split_train_val_test(tunes, 0.05, 0.1, seed=0)
    train_text, val_text, test_text = join_tunes(train), join_tunes(val), join_tunes(test)
    vocab = Vocab(train_text + val_text + test_text)
    val_ids, test_ids = vocab.encode(val_text), vocab.encode(test_text)
    irish = irish_texts()
    t0 = time.perf_counter()
    rows = [bench(n, r, vocab, train, val_ids, test_ids, irish, a.cpu_minutes, a.samples)
            for n, r in recipes().items() if a.only is None or n.startswith(a.only)]
    print(f"({(time.perf_counter() - t0) / 60:.1f} wall minutes for both)")
    print(f"| model | params | train CPU min (wall) | chars trained | test bits/char "
          f"| irish.abc bits/char (file / tunes) | valid tunes (of {a.samples}) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['params']:,} | {r['cpu_minutes']:.2f} "
              f"({r['wall_minutes']:.1f}) | {r['chars']:,} | {r['test_bpc']:.3f} "
              f"| {r['irish_file_bpc']:.3f} / {r['irish_tunes_bpc']:.3f} "
              f"| {r['valid_share']:.0%} |")
    if len(rows) == 2:
        m, lab = rows
        print(f"lab / music: test bits/char {lab['test_bpc'] / m['test_bpc']:.2f}x, "
              f"irish.abc {lab['irish_file_bpc'] / m['irish_file_bpc']:.2f}x (file), "
              f"{lab['irish_tunes_bpc'] / m['irish_tunes_bpc']:.2f}x (tunes)")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"machine": machine_description(), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
