"""The ``music`` default model vs the 6.S191 lab's reference LSTM, same data, same CPU budget.

Both models train on the same tunes (O'Neill + Ryan from music21, copies dropped and
split by tune into train / validation / test with seed 0, as the ``music`` experiment
does) with the same TBPTT loop (Adam, gradient clip 1, LSTM state carried between
windows, learning rate cosine-decayed along the budget) for the same wall-clock budget
on one CPU thread; only the architecture and the lab's hyper-parameters differ:

- ``music``: Embedding 64, LSTM 256, dropout 0.3, windows of 128, 16 lanes, Adam 3e-3
  (the experiment's defaults);
- ``lab``: Embedding 256, LSTM 1024, windows of 100, batch 8, Adam 5e-3 (the lab's values).

Reported per model: test bits/char at the end of the budget, characters trained
per wall-clock second and per CPU second (the latter is steadier on a shared machine),
and the share of ``--samples`` tunes (temperature 0.8) that are valid ABC by
:mod:`introdl.sequences.music.quality`. Note: the lab samples random windows and
restarts the state each batch; here both use the same carried-state TBPTT loop.

    python benchmarks/music_vs_lab.py --minutes 3 --samples 10
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from introdl.sequences.music.corpus import (
    dedupe_tunes,
    join_tunes,
    load_corpus,
    split_train_val_test,
)
from introdl.sequences.music.model import CharLSTM, CharLSTMConfig, Vocab
from introdl.sequences.music.quality import assess
from introdl.sequences.music.sample import sample_tunes
from introdl.sequences.music.train import TBPTTConfig, bits_per_char, train_tbptt

MODELS = {  # name -> (emb, hidden, seq_len, batch, lr, dropout)
    "music (default)": (64, 256, 128, 16, 3e-3, 0.3),
    "lab reference": (256, 1024, 100, 8, 5e-3, 0.0),
}


def bench(name: str, vocab: Vocab, train_ids, val_ids, test_ids, train_text: str,
          minutes: float, samples: int) -> dict[str, float | str]:
    emb, hidden, seq_len, batch, lr, dropout = MODELS[name]
    torch.manual_seed(0)
    model = CharLSTM(CharLSTMConfig(len(vocab), emb, hidden, dropout=dropout))
    cpu0 = time.process_time()
    # one evaluation, at the end, on a small slice: the budget and CPU time are training
    res = train_tbptt(model, train_ids, val_ids[:4096],
                      TBPTTConfig(batch, seq_len, lr, max_minutes=minutes, eval_every_s=1e9))
    cpu = time.process_time() - cpu0
    test = bits_per_char(model, test_ids)  # the whole test stream, read once
    tunes = sample_tunes(model, vocab, n=samples, temperature=0.8, seed=0)
    _, q = assess([t.text for t in tunes], [t.complete for t in tunes], train_text)
    return {"model": name, "params": sum(p.numel() for p in model.parameters()),
            "minutes": res.seconds / 60, "chars": res.chars, "test_bpc": test,
            "chars_per_s": res.chars / res.seconds, "chars_per_cpu_s": res.chars / cpu,
            "valid_share": q["valid_share"], "longest_copy_median": q["longest_copy_median"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=3.0, help="training budget per model")
    p.add_argument("--samples", type=int, default=10, help="tunes sampled per model")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args()
    torch.set_num_threads(a.threads)  # this script's own process
    tunes, _ = load_corpus(("oneill", "ryan"))
    tunes, _ = dedupe_tunes(tunes)
    train, val, test = split_train_val_test(tunes, 0.05, 0.1, seed=0)
    train_text, val_text, test_text = join_tunes(train), join_tunes(val), join_tunes(test)
    vocab = Vocab(train_text + val_text + test_text)
    train_ids, val_ids, test_ids = (vocab.encode(t) for t in (train_text, val_text, test_text))
    rows = [bench(n, vocab, train_ids, val_ids, test_ids, train_text, a.minutes, a.samples)
            for n in MODELS]
    print(f"| model | params | train min | chars | test bits/char | chars/s | chars/CPU-s "
          f"| valid tunes ({a.samples}) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['params']:,} | {r['minutes']:.1f} | {r['chars']:,} "
              f"| {r['test_bpc']:.3f} | {r['chars_per_s']:,.0f} | {r['chars_per_cpu_s']:,.0f} "
              f"| {r['valid_share']:.0%} |")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
