"""The `music` LSTM vs a small causal self-attention model, same data, same CPU time.

Both train on the `music` experiment's tunes (O'Neill + Ryan from music21, copies
dropped, split by tune with seed 0, each training tune also transposed into up to 3
other keys) with the same TBPTT loop (Adam, gradient clip 1, 16 lanes of 128-character
windows, learning rate cosine-decayed along the budget, bf16 autocast where native)
for the same budget of CPU time, one after the other in this process on one thread:

- ``lstm``: the experiment's default model (:class:`MusicConfig`: Embedding 64 ->
  LSTM 256 -> Linear, dropout 0.2, Adam 3e-3), its state carried between windows;
- ``attention``: :class:`CharTransformer` (width 128, 3 pre-norm blocks of 4 heads,
  dropout 0.1, Adam 1e-3), which attends over the previous window (128 characters)
  and the current one, carried the same way.

Reported per model: parameters, CPU and wall minutes, characters trained, bits/char on
the validation tunes and on the held-out test tunes (read once, after training), and
the share of ``--samples`` tunes (temperature 0.8) that are valid ABC.

    python benchmarks/music_attention_vs_lstm.py --cpu-minutes 12 --samples 20 --json F
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch
from torch import nn

from introdl.runtime import machine_description
from introdl.sequences.experiments.music import MusicConfig
from introdl.sequences.music.augment import augmented_text
from introdl.sequences.music.corpus import (
    dedupe_tunes,
    join_tunes,
    load_corpus,
    split_train_val_test,
)
from introdl.sequences.music.model import Vocab
from introdl.sequences.music.quality import assess
from introdl.sequences.music.sample import sample_tunes
from introdl.sequences.music.train import TBPTTConfig, bits_per_char, train_tbptt


def models(vocab_size: int) -> dict[str, tuple[nn.Module, float]]:
    """name -> (model, peak learning rate): the experiment's, as ``--set arch=NAME`` builds it."""
    out = {}
    for arch in ("lstm", "attention"):
        cfg = dataclasses.replace(MusicConfig(), arch=arch)
        torch.manual_seed(0)
        out[arch] = (cfg.build_model(vocab_size), cfg.peak_lr())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cpu-minutes", type=float, default=3.0,
                   help="training budget per model, CPU minutes of this process")
    p.add_argument("--samples", type=int, default=10, help="tunes sampled per model")
    p.add_argument("--only", choices=["lstm", "attention"], help="run one of the two")
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args()
    torch.set_num_threads(1)  # CPU time is compared on one thread
    print(machine_description(), flush=True)
    d = MusicConfig()
    tunes, _ = load_corpus(d.collections)
    tunes, _ = dedupe_tunes(tunes)
    train, val, test = split_train_val_test(tunes, d.val_fraction, d.test_fraction, seed=0)
    train_text, val_text, test_text = (join_tunes(t) for t in (train, val, test))
    vocab = Vocab(train_text + val_text + test_text)
    fit = vocab.encode(augmented_text(train, d.key_copies, seed=0, vocab=vocab.chars))
    val_ids, test_ids = vocab.encode(val_text), vocab.encode(test_text)
    rows = []
    for name, (model, lr) in models(len(vocab)).items():
        if a.only and name != a.only:
            continue
        # one evaluation, at the end, on a slice of validation (the loop needs one)
        res = train_tbptt(model, fit, val_ids[:4096],
                          TBPTTConfig(d.batch_size, d.seq_len, lr, max_minutes=1e9,
                                      max_cpu_minutes=a.cpu_minutes, eval_every_s=1e9,
                                      precision=d.precision))
        t0 = time.perf_counter()
        row = {"model": name, "params": sum(q.numel() for q in model.parameters()),
               "lr": lr, "cpu_minutes": res.cpu_seconds / 60, "wall_minutes": res.seconds / 60,
               "chars": res.chars, "chars_per_cpu_second": res.chars / res.cpu_seconds,
               "val_bpc": bits_per_char(model, val_ids),
               "test_bpc": bits_per_char(model, test_ids)}  # read once, after training
        tunes_out = sample_tunes(model, vocab, n=a.samples, temperature=0.8, seed=0)
        _, q = assess([t.text for t in tunes_out], [t.complete for t in tunes_out], train_text)
        row.update(valid_share=q["valid_share"], scoring_seconds=time.perf_counter() - t0)
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("| model | params | train CPU min (wall) | chars trained (per CPU s) | validation "
          f"bits/char | test bits/char | valid tunes (of {a.samples}) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['params']:,} | {r['cpu_minutes']:.2f} "
              f"({r['wall_minutes']:.1f}) | {r['chars']:,} ({r['chars_per_cpu_second']:,.0f}) "
              f"| {r['val_bpc']:.3f} | {r['test_bpc']:.3f} | {r['valid_share']:.0%} |")
    if len(rows) == 2:
        print(f"attention / lstm: test bits/char {rows[1]['test_bpc'] / rows[0]['test_bpc']:.2f}x, "
              f"characters trained {rows[1]['chars'] / rows[0]['chars']:.2f}x")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"machine": machine_description(), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
