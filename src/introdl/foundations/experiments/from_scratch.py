"""Lecture 1 by hand: a NumPy network, backpropagation by the chain rule, and SGD on digits.

The network, its gradients and the optimiser are :mod:`introdl.scratch`; here we
(1) check the hand-derived gradients against ``torch.autograd`` on the same weights
in float64, and (2) train the net on scikit-learn's 8x8 digits with minibatch SGD
(momentum) on the softmax cross-entropy ``L = -1/N sum_i log softmax(f(x_i))[y_i]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from introdl.config import require
from introdl.data import load_arrays
from introdl.errors import UsageError
from introdl.experiment import Claim, experiment
from introdl.report.plots import figure
from introdl.run import Run
from introdl.scratch import SGD, SoftmaxCrossEntropy, mlp, to_torch
from introdl.scratch.network import ACTIVATIONS


@dataclass
class FromScratchConfig:
    hidden: int = 64  # width of each hidden layer
    layers: int = 2  # number of hidden layers
    activation: Literal["relu", "tanh", "sigmoid"] = "relu"  # hidden-layer activation
    epochs: int = 30  # passes over the 1,347 training digits
    batch_size: int = 32  # examples per SGD step
    lr: float = 0.05  # learning rate
    momentum: float = 0.9  # SGD momentum (0 = plain SGD)

    def validate(self) -> None:
        require(self, "hidden", self.hidden >= 1, "must be at least 1")
        require(self, "layers", self.layers >= 0, "must be 0 or more")


def max_grad_rel_err(sizes: list[int], activation: str, x: np.ndarray, y: np.ndarray,
                     seed: int = 0) -> float:
    """Largest ``max|g_ours - g_torch| / max|g_torch|`` over all weight tensors (float64)."""
    net = mlp(sizes, activation, seed=seed, dtype=np.float64)
    tnet = to_torch(net)
    loss = SoftmaxCrossEntropy()
    loss(net(x), y)
    net.backward(loss.backward())
    torch.nn.functional.cross_entropy(tnet(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    errs = []
    for (_, g), p in zip(net.params(), tnet.parameters(), strict=True):
        tg = p.grad.numpy()
        tg = tg.T if tg.ndim == 2 else tg  # nn.Linear stores W^T
        errs.append(np.abs(g - tg).max() / max(np.abs(tg).max(), 1e-300))
    return float(max(errs))


@experiment(
    name="from-scratch", lecture=1,
    title="A NumPy network with backpropagation by hand, checked against autograd, on digits",
    claims=[
        Claim("backpropagation by the chain rule gives autograd's gradients (float64)",
              metric="max_grad_rel_err", expected=1e-6, compare="<="),
        Claim("the hand-built net learns to read digits", metric="test_acc", expected=0.95,
              compare=">="),
    ],
    quick={"epochs": 20},
)
def from_scratch(cfg: FromScratchConfig, run: Run) -> dict[str, float]:
    if cfg.activation not in ACTIVATIONS:
        raise UsageError(f"unknown activation {cfg.activation!r}; use one of "
                         f"{', '.join(ACTIVATIONS)}")
    Xtr, ytr = load_arrays("digits", "train")
    Xte, yte = load_arrays("digits", "test")
    Xtr = Xtr.reshape(len(Xtr), -1).astype(np.float64) / 16.0  # (N, 8, 8) -> (N, 64), in [0, 1]
    Xte = Xte.reshape(len(Xte), -1).astype(np.float64) / 16.0
    sizes = [64] + [cfg.hidden] * cfg.layers + [10]

    grad_err = max_grad_rel_err(sizes, cfg.activation, Xtr[:64], ytr[:64], seed=run.seed)
    run.print(f"max relative gradient error vs torch.autograd: {grad_err:.2e}")

    net = mlp(sizes, cfg.activation, seed=run.seed)
    loss_fn, opt = SoftmaxCrossEntropy(), SGD(net.params(), cfg.lr, cfg.momentum)
    rng = np.random.default_rng(run.seed)
    train_loss, test_acc = [], []
    for epoch in range(1, cfg.epochs + 1):
        total = 0.0
        for idx in np.array_split(rng.permutation(len(Xtr)), max(1, len(Xtr) // cfg.batch_size)):
            loss = loss_fn(net(Xtr[idx]), ytr[idx])  # forward
            net.backward(loss_fn.backward())  # backward: chain rule
            opt.step()  # W <- W - lr * v
            total += loss * len(idx)
        train_loss.append(total / len(Xtr))
        test_acc.append(float(np.mean(net(Xte).argmax(axis=1) == yte)))
        run.log(epoch=epoch, train_loss=train_loss[-1], test_acc=test_acc[-1])
    run.print(f"test accuracy after {cfg.epochs} epochs: {test_acc[-1]:.4f}")

    fig, ax = figure(size=(5.0, 3.5))
    ep = range(1, cfg.epochs + 1)
    ax.plot(ep, train_loss, "C0-", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("softmax cross-entropy", color="C0")
    ax.set_yscale("log")
    ax2 = ax.twinx()
    ax2.plot(ep, test_acc, "C1-", label="test accuracy")
    ax2.set_ylabel("test accuracy", color="C1")
    ax.set_title(f"NumPy MLP {sizes} on digits (SGD, momentum {cfg.momentum:g})", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    run.save_figure(fig, "training_curve.png")
    return {"max_grad_rel_err": grad_err, "test_acc": test_acc[-1],
            "train_loss": train_loss[-1], "first_epoch_loss": train_loss[0]}
