"""Lecture 2: many-to-one sequence classification — which dance is this folk tune?

The lecture's example is sentiment ("this movie is great" -> positive); offline we
use real labels from the same folk-tune corpus the music lab uses: the R: field
(reel, jig, hornpipe, ...) predicted from the tune's notes alone. A standard
sentiment corpus (SST-2) loads through :mod:`introdl.sequences.sst2` when present.
"""

from __future__ import annotations

from collections import Counter
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
from introdl.sequences.music.corpus import load_corpus
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
    texts, labels, classes, skipped = _data(cfg)
    if cfg.max_examples and cfg.max_examples < len(texts):
        keep, _ = train_test_split(np.arange(len(texts)), train_size=cfg.max_examples,
                                   random_state=run.seed, stratify=labels)
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    run.print(f"{len(texts)} labelled sequences ({skipped} malformed skipped): "
              + ", ".join(f"{classes[k]} {n}" for k, n in sorted(Counter(labels).items())))
    idx = np.arange(len(texts))
    tr, te = train_test_split(idx, test_size=0.2, random_state=run.seed, stratify=labels)
    tr, va = train_test_split(tr, test_size=0.125, random_state=run.seed,
                              stratify=[labels[i] for i in tr])
    vocab = CharVocab.build([texts[i] for i in tr] + [texts[i] for i in np.r_[va, te]])
    X = vocab.encode([t[: cfg.max_len] for t in texts], cfg.max_len)  # (N, T)
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
            "n_tunes": float(len(texts)), "skipped_malformed": float(skipped),
            "best_epoch": float(hist.best_epoch or 0)}


def _data(cfg: SentimentConfig) -> tuple[list[str], list[int], list[str], int]:
    """(texts, labels, class names, malformed tunes skipped) for the chosen dataset."""
    if cfg.dataset == "sst2":
        train, test = load_sst2("train"), load_sst2("test")
        return train[0] + test[0], train[1] + test[1], ["negative", "positive"], 0
    tunes, skipped = load_corpus(cfg.collections, validate=False)
    return (*labelled(tunes, cfg.min_count, cfg.include_meter), skipped)


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
