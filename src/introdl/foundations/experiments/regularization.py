"""Lecture 1, "Regularization": an over-parameterised net overfits; dropout and early stopping help.

A dense network with far more weights than training examples (``784-512-512-10``,
~670k weights, 300 Fashion-MNIST images) drives its training loss towards 0 while
the validation loss turns upwards: it memorises. Three runs from the same initial
weights, trained with Adam on the cross-entropy ``L = -(1/N) sum_i log p(y_i | x_i)``:

- **plain**: no regularisation, all epochs;
- **dropout**: ``p = 0.5`` on every hidden layer (Regularization I), all epochs;
- **early stop**: stop when the validation loss has not improved for ``patience``
  epochs and restore the best-validation weights (Regularization II).

Each is scored on the untouched test set. The lecture's claim: both regularisers
generalise better, i.e. give a lower test loss than the plain run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from introdl.config import require
from introdl.engine import History, TrainConfig, accuracy, evaluate, fit
from introdl.experiment import Claim, experiment
from introdl.foundations.image_splits import image_splits
from introdl.nn.mlp import MLP
from introdl.report.plots import figure
from introdl.run import Run


@dataclass
class RegularizationConfig:
    dataset: Literal["fashion-mnist", "digits"] = "fashion-mnist"  # the image data set
    n_train: int = 300  # few examples, so the big net can memorise them
    n_val: int = 300  # validation set (from the training split) for early stopping
    n_test: int = 5000  # test images scored at the end
    hidden: tuple[int, ...] = (512, 512)  # hidden widths: over-parameterised on purpose
    epochs: int = 100  # passes for the plain and dropout runs (the early stop run may stop)
    batch_size: int = 32  # mini-batch size
    lr: float = 1e-3  # Adam learning rate
    dropout: float = 0.5  # drop probability of the dropout run
    patience: int = 10  # early stopping: epochs without validation improvement

    def validate(self) -> None:
        require(self, "n_val", self.n_val >= 1,
                "must be at least 1 (early stopping watches the validation set)")
        require(self, "hidden", min(self.hidden, default=1) >= 1, "each width must be at least 1")


RUNS = ("plain", "dropout", "early_stop")


@experiment(
    name="regularization",
    lecture=1,
    title="Overfitting on a small set; dropout and early stopping lower the test loss",
    claims=[
        Claim("an over-parameterised net overfits: validation loss rises well above its "
              "minimum while training loss keeps falling", metric="plain_overfits",
              compare="true"),
        Claim("dropout (p = 0.5) gives a lower test loss than no regularisation "
              "(test_loss_plain - test_loss_dropout > 0)", metric="dropout_test_gain",
              expected=0.0, compare=">"),
        Claim("early stopping gives a lower test loss than training to the end "
              "(test_loss_plain - test_loss_early_stop > 0)", metric="early_stop_test_gain",
              expected=0.0, compare=">"),
        Claim("early stopping restores the best-validation weights",
              metric="restored_is_best", compare="true"),
    ],
    quick={"n_train": 200, "n_val": 200, "n_test": 1000, "hidden": (256, 256), "epochs": 60,
           "lr": 3e-3, "patience": 5},
)
def regularization(cfg: RegularizationConfig, run: Run) -> dict[str, float]:
    data = image_splits(cfg.dataset, n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test,
                        seed=run.seed)
    loss_fn = nn.CrossEntropyLoss()
    settings = {
        "plain": (0.0, None),
        "dropout": (cfg.dropout, None),
        "early_stop": (0.0, cfg.patience),
    }
    histories: dict[str, History] = {}
    metrics: dict[str, float] = {}
    for name, (p, patience) in settings.items():
        torch.manual_seed(run.seed)  # the same initial weights for all three runs
        model = MLP(data.in_features, cfg.hidden, 10, dropout=p)
        tc = TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                         patience=patience, seed=run.seed)
        ckpt_dir = run.checkpoint_dir / name
        hist = fit(model, loss_fn, data.train, tc, val_set=data.val, device=run.device,
                   metrics={"acc": accuracy}, checkpoint_dir=ckpt_dir, resume=run.resume,
                   log=lambda name=name, **rec: run.log(run=name, **rec),
                   progress=run.progress, desc=name)
        histories[name] = hist
        test = evaluate(model, loss_fn, data.test, device=run.device, metrics={"acc": accuracy})
        metrics[f"test_loss_{name}"] = test["loss"]
        metrics[f"test_acc_{name}"] = test["acc"]
        metrics[f"epochs_{name}"] = float(len(hist.train_loss))
        run.print(f"{name:>10}: {len(hist.train_loss)} epochs, train loss "
                  f"{hist.train_loss[-1]:.4f}, test loss {test['loss']:.4f}, "
                  f"test acc {test['acc']:.3f}")
        if name == "early_stop":
            # The weights fit() left in the model must score the best validation loss seen.
            val_now = evaluate(model, loss_fn, data.val, device=run.device)["loss"]
            metrics["early_stop_best_epoch"] = float(hist.best_epoch or 0)
            metrics["restored_is_best"] = float(
                math.isclose(val_now, min(hist.val_loss), rel_tol=1e-5, abs_tol=1e-6))

    plain = histories["plain"]
    best = min(range(len(plain.val_loss)), key=plain.val_loss.__getitem__)
    metrics["plain_overfits"] = float(plain.val_loss[-1] > 1.5 * plain.val_loss[best]
                                      and plain.train_loss[-1] < plain.train_loss[best])
    metrics["dropout_test_gain"] = metrics["test_loss_plain"] - metrics["test_loss_dropout"]
    metrics["early_stop_test_gain"] = metrics["test_loss_plain"] - metrics["test_loss_early_stop"]
    _plot(run, histories, metrics)
    return metrics


def _plot(run: Run, histories: dict[str, History], metrics: dict[str, float]) -> None:
    fig, axes = figure(ncols=len(histories), size=(4.0, 3.3), sharey=True)
    for ax, (name, h) in zip(axes, histories.items(), strict=True):
        epochs = range(1, len(h.train_loss) + 1)
        ax.plot(epochs, h.train_loss, label="train")
        ax.plot(epochs, h.val_loss, label="validation")
        if name == "early_stop" and h.best_epoch:
            ax.axvline(h.best_epoch, color="gray", ls=":", label=f"restored (epoch {h.best_epoch})")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"{name.replace('_', ' ')}: test loss {metrics[f'test_loss_{name}']:.3f}",
                     fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("cross-entropy")
    fig.tight_layout()
    run.save_figure(fig, "regularization_curves.png")
