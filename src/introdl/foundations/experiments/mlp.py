"""Lecture 1's dense network, ``Sequential([Flatten, Dense(...), Dense(10)])``, on Fashion-MNIST.

The network (:class:`introdl.nn.mlp.MLP`) maps a 28x28 image to 10 class scores;
softmax + cross-entropy, ``L = -(1/N) sum_i log softmax(f(x_i))_{y_i}``, is
minimised with Adam on mini-batches. 5,000 training images are held out as a
validation set (early stopping restores the best epoch); the 10,000 test images
are scored once, at the end. The claim: such a plain dense net classifies
Fashion-MNIST at 88% or better.

Departure from the lecture's code: the learning rate is decayed along a cosine over
the epochs. With a constant rate the validation accuracy jitters by about a point
from epoch to epoch (one measured run ended at 88.4%); the decay settles it (89.2%
and 89.4% on seeds 0 and 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
from torch import nn

from introdl.config import require
from introdl.engine import History, TrainConfig, accuracy, evaluate, fit
from introdl.experiment import Claim, experiment
from introdl.foundations.image_splits import FASHION_CLASSES, image_splits
from introdl.nn.baselines import linear_baseline_accuracy
from introdl.nn.mlp import MLP
from introdl.report.plots import figure
from introdl.run import Run


@dataclass
class MLPConfig:
    n_train: int | None = None  # training images (None: all 55,000 left after validation)
    n_val: int = 5000  # validation images taken from the training split
    n_test: int | None = None  # test images (None: all 10,000)
    hidden: tuple[int, ...] = (256, 128)  # Dense(256, relu) -> Dense(128, relu)
    dropout: float = 0.0  # no dropout in the lecture's network
    epochs: int = 15  # passes over the training set (at most; early stopping may stop)
    batch_size: int = 128  # mini-batch size
    lr: float = 1e-3  # Adam learning rate
    # learning rate decayed over the epochs (None: constant)
    schedule: Literal["cosine", "step", "exponential"] | None = "cosine"
    patience: int = 5  # early stopping on validation loss; restores the best epoch

    def validate(self) -> None:
        require(self, "hidden", min(self.hidden, default=1) >= 1, "each width must be at least 1")


@experiment(
    name="mlp",
    lecture=1,
    title="Sequential dense network (Flatten -> Dense -> Dense(10)) on Fashion-MNIST",
    claims=[
        Claim("a dense network trained with Adam on mini-batches classifies Fashion-MNIST "
              "at >= 88% test accuracy", metric="test_acc", expected=0.88, compare=">=",
              full_only=True),
        Claim("its hidden layers learn what a linear classifier cannot: test accuracy gain "
              "over logistic regression fitted on the same training images",
              metric="gain_over_linear", expected=0.01, compare=">="),
    ],
    quick={"n_train": 20000, "n_val": 1000, "n_test": 5000, "epochs": 8},
)
def mlp(cfg: MLPConfig, run: Run) -> dict[str, float]:
    data = image_splits("fashion-mnist", n_train=cfg.n_train, n_val=cfg.n_val,
                        n_test=cfg.n_test, seed=run.seed)
    model = MLP(data.in_features, cfg.hidden, len(FASHION_CLASSES), dropout=cfg.dropout)
    run.print(f"{model}\n{sum(p.numel() for p in model.parameters()):,} weights; "
              f"{len(data.train):,} train / {len(data.val or []):,} val / "
              f"{len(data.test):,} test images")
    loss_fn = nn.CrossEntropyLoss()  # softmax + negative log-likelihood
    tc = TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, optimizer="adam", lr=cfg.lr,
                     schedule=cfg.schedule, seed=run.seed,
                     patience=cfg.patience if data.val is not None else None)
    hist = fit(model, loss_fn, data.train, tc, val_set=data.val, device=run.device,
               metrics={"acc": accuracy}, checkpoint_dir=run.checkpoint_dir, resume=run.resume,
               log=run.log, progress=run.progress)
    test = evaluate(model, loss_fn, data.test, device=run.device, metrics={"acc": accuracy})
    linear_acc = linear_baseline_accuracy(*data.train.tensors, *data.test.tensors,
                                          n_classes=len(FASHION_CLASSES))
    run.print(f"test accuracy: dense net {test['acc']:.4f}, logistic regression {linear_acc:.4f}")

    x_test, y_test = data.test.tensors
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(xb.to(run.device)).argmax(-1).cpu()
                          for xb in x_test.split(1024)])  # (N_test,)
    _plot_curves(run, hist)
    _plot_examples(run, x_test, y_test, pred)
    _plot_confusion(run, y_test.numpy(), pred.numpy())
    return {
        "test_acc": test["acc"],
        "test_loss": test["loss"],
        "linear_test_acc": linear_acc,
        "gain_over_linear": test["acc"] - linear_acc,
        "best_val_acc": hist.val_metrics[hist.best_epoch - 1]["acc"] if hist.best_epoch else
        float("nan"),
        "epochs_run": float(len(hist.train_loss)),
        "train_seconds": float(sum(hist.epoch_seconds)),
        "samples_per_second": hist.samples_per_second,
    }


def _plot_curves(run: Run, hist: History) -> None:
    fig, (ax_loss, ax_acc) = figure(ncols=2)
    epochs = range(1, len(hist.train_loss) + 1)
    ax_loss.plot(epochs, hist.train_loss, marker="o", label="train")
    if hist.val_loss:
        ax_loss.plot(epochs, hist.val_loss, marker="o", label="validation")
        ax_acc.plot(epochs, [m["acc"] for m in hist.val_metrics], marker="o", color="C1")
    if hist.best_epoch:
        for ax in (ax_loss, ax_acc):
            ax.axvline(hist.best_epoch, color="gray", ls=":")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="validation accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    ax_loss.legend()
    fig.tight_layout()
    run.save_figure(fig, "training_curves.png")


def _plot_examples(run: Run, x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor,
                   n: int = 12) -> None:
    fig, axes = figure(ncols=6, nrows=2, size=(1.7, 2.2))
    for i, ax in enumerate(np.ravel(axes)[:n]):
        ok = bool(pred[i] == y[i])
        ax.imshow(x[i].numpy(), cmap="gray_r")
        ax.set_title(f"{FASHION_CLASSES[int(pred[i])]}\n(true: {FASHION_CLASSES[int(y[i])]})",
                     fontsize=7, color="green" if ok else "red")
        ax.axis("off")
    fig.suptitle("test images: predicted (true)", fontsize=9)
    fig.tight_layout()
    run.save_figure(fig, "test_predictions.png")


def _plot_confusion(run: Run, y: np.ndarray, pred: np.ndarray) -> None:
    cm = confusion_matrix(y, pred, labels=range(len(FASHION_CLASSES)))
    fig, ax = figure(size=(6.5, 6.0))
    ConfusionMatrixDisplay(cm, display_labels=FASHION_CLASSES).plot(
        ax=ax, cmap="Blues", colorbar=False, xticks_rotation=45, values_format="d")
    ax.set_title("Fashion-MNIST test confusion matrix")
    fig.tight_layout()
    run.save_figure(fig, "confusion_matrix.png")
