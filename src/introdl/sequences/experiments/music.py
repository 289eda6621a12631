"""Lecture 2: music generation — a character LSTM learns Irish folk tunes in ABC, writes new ones.

Data: O'Neill's *Music of Ireland* and Ryan's *Mammoth Collection* from music21's
corpus (offline), split by tune. Model: Embedding -> LSTM -> Linear, trained with
truncated BPTT for a wall-clock budget. Measured: validation bits/char, the share of
sampled tunes that are complete ABC music21 can parse, and how long a run of
characters each tune copies from the training text. The run folder holds the
checkpoint, so ``introdl generate music --checkpoint RUN_DIR`` can sample more.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from introdl.experiment import Claim, experiment
from introdl.report.plots import curves
from introdl.run import Run
from introdl.sequences.music.corpus import join_tunes, load_corpus, split_by_tune
from introdl.sequences.music.generate import TRAIN_TEXT_NAME, write_tunes
from introdl.sequences.music.model import (
    CHECKPOINT_NAME,
    CharLSTM,
    CharLSTMConfig,
    Vocab,
    save_model,
)
from introdl.sequences.music.sample import DEFAULT_START, sample_tunes
from introdl.sequences.music.train import TBPTTConfig, bits_per_char, train_tbptt


@dataclass
class MusicConfig:
    collections: tuple[str, ...] = ("oneill", "ryan")  # music21 ABC collections or .abc paths
    max_tunes: int = 0  # keep only the first N well-formed tunes (0: all)
    val_fraction: float = 0.1  # share of tunes held out for validation bits/char
    emb: int = 64  # character embedding size
    hidden: int = 256  # LSTM units (384 is 2x slower per character on one core)
    layers: int = 1  # stacked LSTM layers
    dropout: float = 0.2  # on embeddings and LSTM outputs (the corpus is small: 0.8M chars)
    batch_size: int = 16  # TBPTT lanes (more updates per character than 32, same speed)
    seq_len: int = 128  # TBPTT window (characters of gradient history)
    lr: float = 3e-3  # Adam learning rate (peak)
    cosine: bool = True  # decay the learning rate to 0 along the time budget
    max_minutes: float = 17.0  # training wall-clock budget (loading and sampling extra)
    max_epochs: int = 100  # upper bound on passes over the training text
    eval_every_s: float = 120.0  # seconds between validation checks
    n_samples: int = 20  # tunes sampled to measure validity and novelty
    temperature: float = 0.8  # sampling temperature for those tunes
    threads: int = 1  # torch CPU threads (1 is fastest for this size on a busy 2-core CPU)


@experiment(
    name="music",
    lecture=2,
    title="character LSTM on Irish folk tunes (ABC): bits/char, valid new tunes",
    claims=[
        Claim("an LSTM learns the structure of ABC tunes: validation <= 1.6 bits per character",
              metric="val_bpc", expected=1.6, compare="<=", quick_expected=2.2),
        Claim("sampled tunes are complete, playable music: >= 80% parse as ABC",
              metric="valid_share", expected=0.8, compare=">=", full_only=True),
    ],
    quick={"max_tunes": 400, "max_minutes": 0.7, "eval_every_s": 15.0, "n_samples": 8,
           "dropout": 0.0},
)
def music(cfg: MusicConfig, run: Run) -> dict[str, float]:
    if run.device.type == "cpu":
        torch.set_num_threads(cfg.threads)
    tunes, skipped = load_corpus(cfg.collections, max_tunes=cfg.max_tunes or None)
    train_tunes, val_tunes = split_by_tune(tunes, cfg.val_fraction, seed=run.seed)
    train_text, val_text = join_tunes(train_tunes), join_tunes(val_tunes)
    vocab = Vocab(train_text + val_text)
    run.print(f"music: {len(train_tunes)} train / {len(val_tunes)} val tunes "
              f"({len(train_text):,} / {len(val_text):,} chars), {skipped} malformed skipped, "
              f"vocabulary {len(vocab)}")
    run.save_text(TRAIN_TEXT_NAME, train_text)

    model = CharLSTM(CharLSTMConfig(len(vocab), cfg.emb, cfg.hidden, cfg.layers, cfg.dropout))
    model.to(run.device)
    tcfg = TBPTTConfig(cfg.batch_size, cfg.seq_len, cfg.lr, max_minutes=cfg.max_minutes,
                       max_epochs=cfg.max_epochs, eval_every_s=cfg.eval_every_s,
                       cosine=cfg.cosine)
    val_ids = vocab.encode(val_text)
    untrained_bpc = bits_per_char(model, val_ids, device=run.device)
    res = train_tbptt(model, vocab.encode(train_text), val_ids, tcfg, device=run.device,
                      log=run.log)
    save_model(run.path(CHECKPOINT_NAME), model, vocab,
               extra={"val_bpc": res.best_val_bpc, "collections": ",".join(cfg.collections)})
    run.save_figure(curves({"train": res.train_bpc, "validation": res.val_bpc},
                           x=[t / 60 for t in res.elapsed], xlabel="training minutes",
                           ylabel="bits per character", title="music LSTM (TBPTT)"),
                    "bits_per_char.png")

    samples = sample_tunes(model, vocab, n=cfg.n_samples, start=DEFAULT_START,
                           temperature=cfg.temperature, seed=run.seed, device=run.device)
    gen = write_tunes([s.text for s in samples], [s.complete for s in samples],
                      run.path("samples"), train_text)
    if (run.dir / "samples" / "piano_roll.png").exists():
        run.figures.append("samples/piano_roll.png")
    run.print(f"music: val {res.best_val_bpc:.3f} bits/char after {res.seconds / 60:.1f} min "
              f"({res.chars / res.seconds:,.0f} chars/s); {gen.metrics['valid_share']:.0%} "
              f"of {cfg.n_samples} sampled tunes valid; audio by {gen.renderer or 'none'}")
    return {
        "val_bpc": res.best_val_bpc,
        "untrained_val_bpc": untrained_bpc,
        "train_bpc": res.train_bpc[-1] if res.train_bpc else float("nan"),
        "train_minutes": res.seconds / 60,
        "chars_per_second": res.chars / max(res.seconds, 1e-9),
        "epochs": res.chars / max(len(train_text), 1),
        "n_train_tunes": float(len(train_tunes)),
        "n_val_tunes": float(len(val_tunes)),
        "skipped_tunes": float(skipped),
        **gen.metrics,
    }
