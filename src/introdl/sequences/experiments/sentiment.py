"""Lecture 2: many-to-one sequence classification — which dance is this folk tune?

The lecture's example is sentiment ("this movie is great" -> positive); offline we
use real labels from the same folk-tune corpus the music lab uses: the R: field
(reel, jig, hornpipe, ...) predicted from the tune's notes alone. A standard
sentiment corpus (SST-2) loads through :mod:`introdl.sequences.sst2` when present.

No example is on both sides of a split: copies of a tune (the two collections share
tunes) are dropped before splitting by
:func:`~introdl.sequences.music.corpus.dedupe_tunes`; for SST-2 the GLUE development
sentences are the test set, and repeated training sentences, or ones equal to a test
sentence, are dropped. Validation (for early stopping) is cut from the training side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import TensorDataset

from introdl.engine import TrainConfig, accuracy, evaluate, fit
from introdl.experiment import Claim, experiment
from introdl.report.plots import curves, figure
from introdl.run import Run
from introdl.sequences.classifier import SequenceClassifier
from introdl.sequences.music.corpus import dedupe_tunes, load_corpus
from introdl.sequences.sst2 import load_sst2
from introdl.sequences.tune_types import labelled
from introdl.sequences.vocab import CharVocab


@dataclass
class SentimentConfig:
    dataset: Literal["tunes", "sst2"] = "tunes"  # tunes: offline corpus; sst2: needs the zip
    collections: tuple[str, ...] = ("oneill", "ryan")  # music21 ABC collections
    include_meter: bool = False  # give the model the M: line (makes jig vs reel easy)
    min_count: int = 40  # keep dance types with at least this many tunes
    max_len: int = 400  # characters of each tune body read
    emb: int = 32  # character embedding size
    hidden: int = 64  # LSTM units per direction
    epochs: int = 12  # passes over the training tunes
    batch_size: int = 32  # tunes per step
    lr: float = 3e-3  # Adam learning rate
    max_examples: int | None = None  # stratified subsample of labelled tunes (quick runs)


@experiment(
    name="sentiment",
    lecture=2,
    title="many-to-one LSTM: a folk tune's dance type from its notes",
    claims=[Claim("an LSTM reading the whole sequence beats the majority-class baseline",
                  metric="gain_over_majority", expected=0.02, compare=">")],
    quick={"epochs": 3, "max_len": 200, "max_examples": 600, "hidden": 32},
)
def sentiment(cfg: SentimentConfig, run: Run) -> dict[str, float]:
    data = _data(cfg)
    texts, labels, classes = data.texts, data.labels, data.classes
    tr, va, te = split_examples(labels, seed=run.seed, test=data.test,
                                max_examples=cfg.max_examples)
    used = np.r_[tr, va, te]
    run.print(f"{len(used)} labelled sequences ({data.skipped} malformed, {data.copies} copies "
              "dropped): " + ", ".join(f"{classes[k]} {n}" for k, n in
                                       sorted(Counter(labels[i] for i in used).items()))
              + f"; {len(tr)} train / {len(va)} validation / {len(te)} test")
    vocab = CharVocab.build([texts[i] for i in used])  # the character set, no statistics
    X = torch.zeros(len(texts), cfg.max_len, dtype=torch.long)  # (N, T); unused rows stay 0
    X[used] = vocab.encode([texts[i][: cfg.max_len] for i in used], cfg.max_len)
    y = torch.tensor(labels)

    def subset(ix):
        return TensorDataset(X[ix], y[ix])

    model = SequenceClassifier(len(vocab), len(classes), cfg.emb, cfg.hidden)
    loss_fn = nn.CrossEntropyLoss()
    hist = fit(model, loss_fn, subset(tr),
               TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                           clip_grad_norm=1.0, patience=4, seed=run.seed),
               val_set=subset(va), device=run.device, metrics={"acc": accuracy},
               log=run.log, progress=run.progress, desc="tune-type LSTM")
    test = evaluate(model, loss_fn, subset(te), device=run.device, metrics={"acc": accuracy})
    majority = Counter(labels[i] for i in tr).most_common(1)[0][0]
    base = float(np.mean([labels[i] == majority for i in te]))
    _figures(run, model, X[te], y[te], classes, hist)
    return {"test_acc": test["acc"], "majority_acc": base, "gain_over_majority":
            test["acc"] - base, "test_loss": test["loss"], "classes": float(len(classes)),
            "n_tunes": float(len(used)), "n_train": float(len(tr)), "n_val": float(len(va)),
            "n_test": float(len(te)), "skipped_malformed": float(data.skipped),
            "copies_dropped": float(data.copies),
            "best_epoch": float(hist.best_epoch or 0)}


@dataclass
class Examples:
    texts: list[str]
    labels: list[int]
    classes: list[str]
    skipped: int  # malformed tunes
    copies: int  # examples dropped as copies of another
    test: list[int] | None = None  # a fixed test set (SST-2: the GLUE dev sentences)


def _data(cfg: SentimentConfig) -> Examples:
    """The labelled examples of the chosen dataset, copies removed."""
    if cfg.dataset == "sst2":
        return _sst2()
    tunes, skipped = load_corpus(cfg.collections, validate=False)
    tunes, copies = dedupe_tunes(tunes)
    return Examples(*labelled(tunes, cfg.min_count, cfg.include_meter), skipped, copies)


def _sst2() -> Examples:
    """GLUE train for training and validation, GLUE dev as the test set.

    GLUE's train file holds many sentences more than once; a repeat (after collapsing
    whitespace and case) is dropped, and so is a training sentence equal to a test one.
    """
    train, test = load_sst2("train"), load_sst2("test")

    def key(s: str) -> str:
        return " ".join(s.split()).casefold()

    seen = {key(s) for s in test[0]}
    texts, labels = list(test[0]), list(test[1])
    for s, y in zip(*train, strict=True):
        if key(s) not in seen:
            seen.add(key(s))
            texts.append(s)
            labels.append(y)
    copies = len(train[0]) + len(test[0]) - len(texts)
    return Examples(texts, labels, ["negative", "positive"], 0, copies,
                    test=list(range(len(test[0]))))


def split_examples(labels: Sequence[int], seed: int, test: Sequence[int] | None = None,
                   max_examples: int | None = None, test_size: float = 0.2,
                   val_size: float = 0.125) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a stratified train / validation / test split.

    Without a fixed ``test``, ``test_size`` of the examples are the test set; with one,
    the others are the pool. Validation is ``val_size`` of what is left for training,
    so the test set never chooses anything. ``max_examples`` subsamples (stratified)
    all examples, or the training pool when the test set is fixed.
    """
    labels = np.asarray(labels)
    fixed = np.asarray(sorted(set(test)), dtype=int) if test is not None else None
    pool = np.setdiff1d(np.arange(len(labels)), fixed) if fixed is not None \
        else np.arange(len(labels))
    if max_examples and max_examples < len(pool):
        pool, _ = train_test_split(pool, train_size=max_examples, random_state=seed,
                                   stratify=labels[pool])
    if fixed is None:
        pool, fixed = train_test_split(pool, test_size=test_size, random_state=seed,
                                       stratify=labels[pool])
    tr, va = train_test_split(pool, test_size=val_size, random_state=seed,
                              stratify=labels[pool])
    return np.sort(tr), np.sort(va), np.sort(fixed)


def _figures(run: Run, model, X, y, classes, hist) -> None:
    run.save_figure(curves({"train": hist.train_loss, "validation": hist.val_loss},
                           ylabel="cross-entropy"), "loss.png")
    model.eval()
    with torch.no_grad():
        pred = model(X.to(run.device)).argmax(-1).cpu()
    cm = confusion_matrix(y.numpy(), pred.numpy(), labels=range(len(classes)))
    fig, ax = figure(size=(5, 4.5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("dance type from the notes (test tunes)")
    fig.tight_layout()
    run.save_figure(fig, "confusion.png")
