"""Lecture 2: music generation — a character LSTM learns Irish folk tunes in ABC, writes new ones.

Data: O'Neill's *Music of Ireland* and Ryan's *Mammoth Collection* from music21's
corpus (offline), copies removed (:func:`~introdl.sequences.music.corpus.dedupe_tunes`:
no two kept tunes share 60 characters of normalised music), then split by tune into
train / validation / test. Model: Embedding -> LSTM -> Linear, trained with truncated
BPTT for a budget of CPU time (12 CPU-minutes by default, capped at 17 wall-clock
minutes) on the training tunes and their copies transposed into other common keys
(:mod:`~introdl.sequences.music.augment`). ``--set arch=attention`` trains a small causal
self-attention model instead, with the same loop and budget (the LSTM's sizes and dropout
do not apply to it). Validation bits/char chooses the checkpoint,
and the test tunes are only measured. Measured: test bits/char (beside a unigram character
model's on the same test text), the share of sampled tunes that are complete ABC
music21 can parse, and how long a run of characters each tune copies from the training
text. The run folder holds the checkpoint, so ``introdl generate music --checkpoint
RUN_DIR`` can sample more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from introdl.config import require
from introdl.experiment import Claim, experiment
from introdl.report.plots import curves
from introdl.run import Run
from introdl.sequences.music.attention_model import CharTransformer, CharTransformerConfig
from introdl.sequences.music.augment import augmented_text
from introdl.sequences.music.corpus import (
    dedupe_tunes,
    join_tunes,
    load_corpus,
    split_train_val_test,
)
from introdl.sequences.music.generate import TRAIN_TEXT_NAME, write_tunes
from introdl.sequences.music.model import (
    CHECKPOINT_NAME,
    CharLSTM,
    CharLSTMConfig,
    Vocab,
    save_model,
)
from introdl.sequences.music.sample import DEFAULT_START, sample_tunes
from introdl.sequences.music.train import (
    TBPTTConfig,
    bits_per_char,
    train_tbptt,
    unigram_bits_per_char,
)

DEFAULT_LR = {"lstm": 3e-3, "attention": 1e-3}  # Adam peaks (the LSTM's: see docs)


@dataclass
class MusicConfig:
    collections: tuple[str, ...] = ("oneill", "ryan")  # music21 ABC collections or .abc paths
    max_tunes: int = 0  # read only the first N well-formed tunes, before copies go (0: all)
    val_fraction: float = 0.05  # tunes held out to choose the checkpoint (validation)
    test_fraction: float = 0.1  # tunes held out and only measured (the claim's bits/char)
    arch: Literal["lstm", "attention"] = "lstm"  # the lecture's LSTM, or a small causal
    # self-attention model beside it (attention_model.py: width 128, 3 blocks, 4 heads,
    # the previous window as context; benchmarks/music_attention_vs_lstm.py compares them)
    emb: int = 64  # character embedding size
    hidden: int = 256  # LSTM units (384 is 2x slower per character on one core)
    layers: int = 1  # stacked LSTM layers
    dropout: float = 0.2  # on embeddings and LSTM outputs (validation: 0.1 1.574, 0.3 1.602)
    weight_drop: float = 0.0  # DropConnect on the LSTM's recurrent weights while training
    key_copies: int = 3  # transposed copies of each training tune in other common keys
    batch_size: int = 16  # TBPTT lanes (more updates per character than 32, same speed)
    seq_len: int = 128  # TBPTT window (characters of gradient history)
    lr: float | None = None  # Adam's peak learning rate (none: 3e-3 LSTM, 1e-3 attention)
    precision: Literal["fp32", "bf16", "auto"] = "auto"  # bf16 autocast where native (1.6x chars/s)
    cosine: bool = True  # decay the learning rate to 0 along the time budget
    max_cpu_minutes: float = 12.0  # training budget: CPU time, all threads (0: none)
    max_minutes: float = 17.0  # training wall-clock cap (loading and sampling extra)
    max_epochs: int = 100  # upper bound on passes over the training text
    eval_every_s: float = 120.0  # seconds between validation checks
    max_steps: int | None = None  # a budget in updates as well (the quick preset's; none: time)
    eval_every_steps: int | None = None  # also check validation every N updates
    n_samples: int = 20  # tunes sampled to measure validity and novelty
    temperature: float = 0.8  # sampling temperature for those tunes

    def peak_lr(self) -> float:
        """``lr``, or the architecture's own default when it is not set."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.arch]

    def build_model(self, vocab_size: int) -> CharLSTM | CharTransformer:
        """The model ``arch`` names, sized by this config, for ``vocab_size`` characters."""
        if self.arch == "attention":
            return CharTransformer(CharTransformerConfig(vocab_size, context=self.seq_len,
                                                         window=self.seq_len))
        return CharLSTM(CharLSTMConfig(vocab_size, self.emb, self.hidden, self.layers,
                                       self.dropout, self.weight_drop))

    def validate(self) -> None:
        require(self, "val_fraction", self.val_fraction > 0, "must be above 0 (validation "
                "tunes choose the checkpoint)")
        require(self, "test_fraction", self.test_fraction > 0, "must be above 0 (the test "
                "tunes are what the claim measures)")
        require(self, "key_copies", self.key_copies >= 0, "must be 0 or more")
        require(self, "lr", self.lr is None or self.lr > 0, "must be above 0 (or left unset "
                "for the model's own default)")
        require(self, "weight_drop", 0 <= self.weight_drop < 1, "must be in [0, 1)")
        require(self, "max_cpu_minutes", self.max_cpu_minutes >= 0, "must be 0 (none) or more")
        require(self, "test_fraction", self.val_fraction + self.test_fraction < 1,
                f"val_fraction + test_fraction must be below 1 to leave tunes to train on "
                f"(val_fraction is {self.val_fraction})")


@experiment(
    name="music",
    lecture=2,
    title="character LSTM on Irish folk tunes (ABC): bits/char, valid new tunes",
    claims=[
        Claim("an LSTM learns the structure of ABC tunes: <= 1.6 bits per character on "
              "unseen test tunes (no 60-character passage shared with training)",
              metric="test_bpc", expected=1.6, compare="<=", full_only=True),
        Claim("it learns more than character frequencies: on the test tunes it needs at "
              "least 2 bits/char fewer than a unigram character model (same run)",
              metric="bits_below_unigram", expected=2.0, compare=">=", quick_expected=1.5),
        Claim("sampled tunes are complete, playable music: >= 80% parse as ABC",
              metric="valid_share", expected=0.8, compare=">=", full_only=True),
    ],
    # quick: a budget of updates, not minutes, so what it reaches does not depend on how
    # busy the machine is (the minutes are only a cap)
    quick={"max_tunes": 400, "max_steps": 300, "eval_every_steps": 50, "eval_every_s": 1e9,
           "max_minutes": 1.0, "n_samples": 8, "dropout": 0.0},
)
def music(cfg: MusicConfig, run: Run) -> dict[str, float]:
    tunes, skipped = load_corpus(cfg.collections, max_tunes=cfg.max_tunes or None)
    tunes, copies = dedupe_tunes(tunes)
    train_tunes, val_tunes, test_tunes = split_train_val_test(
        tunes, cfg.val_fraction, cfg.test_fraction, seed=run.seed)
    train_text, val_text, test_text = (join_tunes(t) for t in
                                       (train_tunes, val_tunes, test_tunes))
    vocab = Vocab(train_text + val_text + test_text)  # the character set, not the statistics
    run.print(f"music: {len(train_tunes)} train / {len(val_tunes)} validation / "
              f"{len(test_tunes)} test tunes ({len(train_text):,} / {len(val_text):,} / "
              f"{len(test_text):,} chars), {copies} copies and {skipped} malformed dropped, "
              f"vocabulary {len(vocab)}")
    run.save_text(TRAIN_TEXT_NAME, train_text)
    # more training tunes: each one also transposed into other common keys (augment.py)
    fit_text = (augmented_text(train_tunes, cfg.key_copies, seed=run.seed, vocab=vocab.chars)
                if cfg.key_copies else train_text)
    if cfg.key_copies:
        run.print(f"music: with up to {cfg.key_copies} transposed copies of each tune, "
                  f"{len(fit_text):,} training chars")

    model = cfg.build_model(len(vocab)).to(run.device)
    tcfg = TBPTTConfig(cfg.batch_size, cfg.seq_len, cfg.peak_lr(), max_minutes=cfg.max_minutes,
                       max_cpu_minutes=cfg.max_cpu_minutes,
                       max_epochs=cfg.max_epochs, eval_every_s=cfg.eval_every_s,
                       cosine=cfg.cosine, max_steps=cfg.max_steps or 0,
                       eval_every_steps=cfg.eval_every_steps or 0, precision=cfg.precision)
    train_ids, val_ids, test_ids = (vocab.encode(t) for t in (fit_text, val_text, test_text))
    untrained_bpc = bits_per_char(model, test_ids, device=run.device)
    # validation chooses the checkpoint; the test tunes are read once, after training
    res = train_tbptt(model, train_ids, val_ids, tcfg, device=run.device, log=run.log)
    test_bpc = bits_per_char(model, test_ids, device=run.device)
    unigram_bpc = unigram_bits_per_char(vocab.encode(train_text), test_ids, len(vocab))
    save_model(run.path(CHECKPOINT_NAME), model, vocab,
               extra={"val_bpc": res.best_val_bpc, "test_bpc": test_bpc,
                      "collections": ",".join(cfg.collections)})
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
    run.print(f"music: test {test_bpc:.3f} bits/char (unigram {unigram_bpc:.3f}; validation "
              f"{res.best_val_bpc:.3f}) after {res.seconds / 60:.1f} min "
              f"({res.chars / res.seconds:,.0f} chars/s); {gen.metrics['valid_share']:.0%} "
              f"of {cfg.n_samples} sampled tunes valid; audio by {gen.renderer or 'none'}")
    return {
        "test_bpc": test_bpc,
        "val_bpc": res.best_val_bpc,
        "unigram_test_bpc": unigram_bpc,
        "bits_below_unigram": unigram_bpc - test_bpc,
        "untrained_test_bpc": untrained_bpc,
        "train_bpc": res.train_bpc[-1] if res.train_bpc else float("nan"),
        "train_minutes": res.seconds / 60,
        "chars_per_second": res.chars / max(res.seconds, 1e-9),
        "train_cpu_minutes": res.cpu_seconds / 60,
        "epochs": res.chars / max(len(fit_text), 1),
        "n_train_tunes": float(len(train_tunes)),
        "n_val_tunes": float(len(val_tunes)),
        "n_test_tunes": float(len(test_tunes)),
        "copies_dropped": float(copies),
        "skipped_tunes": float(skipped),
        **gen.metrics,
    }
