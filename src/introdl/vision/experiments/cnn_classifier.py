"""The lecture's CNN on Fashion-MNIST (and MNIST when available), against a dense network."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from introdl.config import require
from introdl.data import load_arrays
from introdl.engine import TrainConfig, accuracy, evaluate, fit
from introdl.engine.optim import SCHEDULES
from introdl.errors import UsageError
from introdl.experiment import Claim, experiment
from introdl.nn.baselines import linear_baseline_accuracy
from introdl.nn.mlp import MLP
from introdl.report.plots import curves, figure
from introdl.run import Run
from introdl.vision.augment import RandomShiftFlip
from introdl.vision.classify import LectureCNN, parameter_count, saliency

CLASS_NAMES = {
    "fashion-mnist": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Boot"],
    "mnist": [str(d) for d in range(10)],
}


@dataclass
class CNNClassifierConfig:
    dataset: Literal["fashion-mnist", "mnist"] = "fashion-mnist"  # main data set
    also_mnist: bool = True  # also train the CNN on MNIST if its files are here (else skipped)
    hidden: int = 128  # dense layer between Flatten and the output (0 = the slide's head)
    epochs: int = 20  # passes over the training set (CNN and MLP alike)
    mnist_epochs: int = 2  # passes for the extra MNIST run
    batch_size: int = 128  # mini-batch size
    lr: float = 5e-3  # Adam's peak learning rate in the schedule
    schedule: str = "onecycle"  # LR schedule (onecycle: warm-up then anneal, every step)
    label_smoothing: float = 0.1  # share of each target spread over all classes
    precision: Literal["fp32", "bf16", "auto"] = "auto"  # auto: bf16 autocast where native
    channels_last: bool = True  # NHWC memory layout (faster convolutions on CPUs)
    augment_shift: int = 2  # CNN training images shifted by up to this many pixels (0 = off)
    augment_flip: bool = True  # and mirrored left-right at random (Fashion-MNIST only)
    val_size: int = 5000  # training images held out for the per-epoch validation curve
    train_size: int = 0  # use only this many training images (0 = all)
    test_size: int = 0  # use only this many test images (0 = all 10,000)

    def validate(self) -> None:
        require(self, "hidden", self.hidden >= 0, "must be 0 or more")
        require(self, "augment_shift", self.augment_shift >= 0, "must be 0 or more")
        require(self, "schedule", self.schedule in SCHEDULES,
                f"use one of {', '.join(SCHEDULES)}")


def load_images(name: str, split: str, limit: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)``: images as float32 (N, 1, 28, 28) in 0..1, labels int64 (N,)."""
    X, y = load_arrays(name, split)
    if limit:
        X, y = X[:limit], y[:limit]
    return _tensors(X, y)


def _tensors(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(X.astype(np.float32) / 255.0)[:, None]  # (N, 28, 28) -> (N, 1, 28, 28)
    return x, torch.from_numpy(y)


class Standardize(nn.Module):
    """``(x - mean) / std`` with the training set's statistics, kept inside the model."""

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def train_config(cfg: CNNClassifierConfig, epochs: int, seed: int) -> TrainConfig:
    """The engine settings of the training recipe (shared with benchmarks/cnn_time_to_91.py)."""
    return TrainConfig(epochs=epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                       schedule=cfg.schedule, precision=cfg.precision,
                       channels_last=cfg.channels_last, seed=seed)


class Trained(NamedTuple):
    test_acc: float
    val_curve: list[float]  # validation accuracy after each epoch
    seconds: float  # wall-clock time of fit (validation included)
    samples_per_second: float  # training examples per second of the training steps


def train_and_test(model: nn.Module, data: dict[str, torch.Tensor], cfg: CNNClassifierConfig,
                   run: Run, epochs: int, name: str) -> Trained:
    """Fit ``model`` with the engine, then score it once on the test set."""
    xtr, ytr = data["x_train"], data["y_train"]
    n_val = min(cfg.val_size, len(xtr) // 5)
    train = TensorDataset(xtr[n_val:], ytr[n_val:])
    val = TensorDataset(xtr[:n_val], ytr[:n_val]) if n_val else None
    t0 = time.perf_counter()
    hist = fit(model, nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing), train,
               train_config(cfg, epochs, run.seed), val_set=val, device=run.device,
               metrics={"acc": accuracy}, log=lambda **r: run.log(model=name, **r),
               progress=run.progress, desc=name)
    seconds = time.perf_counter() - t0
    test = evaluate(model, nn.CrossEntropyLoss(), TensorDataset(data["x_test"], data["y_test"]),
                    device=run.device, metrics={"acc": accuracy})
    run.print(f"{name}: test accuracy {test['acc']:.4f} ({seconds:.0f} s, "
              f"{hist.samples_per_second:,.0f} training images/s)")
    return Trained(test["acc"], [m["acc"] for m in hist.val_metrics], seconds,
                   hist.samples_per_second)


def _data(name: str, cfg: CNNClassifierConfig, seed: int) -> dict[str, torch.Tensor]:
    X, y = load_arrays(name, "train")
    Xte, yte = load_arrays(name, "test")
    for key, asked, have, split in (("train_size", cfg.train_size, len(X), "training"),
                                    ("test_size", cfg.test_size, len(Xte), "test")):
        if asked > have:
            raise UsageError(f"--set {key}={asked} is out of range: {name} has {have} {split} "
                             f"images; ask for at most {have} (0 = all)")
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    if cfg.train_size:
        perm = perm[:cfg.train_size]
    xtr, ytr = _tensors(X[perm.numpy()], y[perm.numpy()])  # shuffled once, then subset
    if cfg.test_size:
        Xte, yte = Xte[:cfg.test_size], yte[:cfg.test_size]
    xte, yte = _tensors(Xte, yte)  # (as load_images(name, "test", cfg.test_size))
    return {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}


def _front(data: dict[str, torch.Tensor], cfg: CNNClassifierConfig, dataset: str,
           augment: bool = True) -> dict[str, nn.Module]:
    """Augmentation (training mode only; ``augment=False``: none) and standardisation."""
    x = data["x_train"]
    flip = cfg.augment_flip and dataset == "fashion-mnist"  # a mirrored digit is no digit
    shift = cfg.augment_shift if augment else 0
    return {"augment": RandomShiftFlip(shift, flip and augment),
            "standardize": Standardize(float(x.mean()), float(x.std()))}


def _cnn(data: dict[str, torch.Tensor], cfg: CNNClassifierConfig, dataset: str) -> nn.Sequential:
    return nn.Sequential(OrderedDict(**_front(data, cfg, dataset),
                                     net=LectureCNN(hidden=cfg.hidden)))


@experiment(
    name="cnn-classifier", lecture=3,
    title="Conv-ReLU-pool x2 -> dense -> softmax on Fashion-MNIST, against a dense network",
    claims=[
        Claim("the lecture's CNN classifies Fashion-MNIST well (>= 91% test accuracy)",
              metric="test_acc", expected=0.91, compare=">=", full_only=True),
        Claim("convolutions learn what a linear classifier cannot: test accuracy gain over "
              "logistic regression fitted on the same training images",
              metric="gain_over_linear", expected=0.02, compare=">="),
        Claim("a CNN beats a fully connected network with about as many parameters",
              metric="cnn_minus_mlp_acc", expected=0.0, compare=">", full_only=True),
        Claim("first-layer filters, feature maps and saliency show what the CNN looks at "
              "(figures)"),
    ],
    # quick: 4 short epochs, where augmentation only slows learning down
    quick={"epochs": 4, "mnist_epochs": 1, "batch_size": 64, "lr": 3e-3, "train_size": 8000,
           "test_size": 1000, "val_size": 500, "augment_shift": 0, "augment_flip": False},
)
def cnn_classifier(cfg: CNNClassifierConfig, run: Run) -> dict[str, float]:
    data = _data(cfg.dataset, cfg, run.seed)
    cnn = _cnn(data, cfg, cfg.dataset)
    cnn_params = parameter_count(cnn)
    cnn_run = train_and_test(cnn, data, cfg, run, cfg.epochs, "cnn")
    cnn_acc = cnn_run.test_acc

    # Lecture 1's dense network with one hidden layer sized to the CNN's parameter
    # count: 784*h + h (hidden) + 10*h + 10 (output) = cnn_params.
    h = round((cnn_params - 10) / (28 * 28 + 1 + 10))
    # No augmentation for the MLP: it has no translation invariance to exploit, and
    # shifted copies cost it accuracy (measured in docs/lecture3a.md); it gets its best.
    mlp = nn.Sequential(OrderedDict(**_front(data, cfg, cfg.dataset, augment=False),
                                    net=MLP(28 * 28, (h,), 10)))
    mlp_run = train_and_test(mlp, data, cfg, run, cfg.epochs, "mlp")
    mlp_acc = mlp_run.test_acc

    n_val = min(cfg.val_size, len(data["x_train"]) // 5)  # the images the CNN trained on
    linear_acc = linear_baseline_accuracy(data["x_train"][n_val:], data["y_train"][n_val:],
                                          data["x_test"], data["y_test"], n_classes=10)
    run.print(f"test accuracy: CNN {cnn_acc:.4f}, MLP {mlp_acc:.4f}, "
              f"logistic regression {linear_acc:.4f}")
    metrics = {"test_acc": cnn_acc, "mlp_test_acc": mlp_acc, "cnn_minus_mlp_acc": cnn_acc - mlp_acc,
               "linear_test_acc": linear_acc, "gain_over_linear": cnn_acc - linear_acc,
               "cnn_params": float(cnn_params), "mlp_params": float(parameter_count(mlp)),
               "cnn_train_seconds": cnn_run.seconds, "mlp_train_seconds": mlp_run.seconds,
               "cnn_samples_per_second": cnn_run.samples_per_second}
    metrics.update(_other_dataset(cfg, run))

    run.save_figure(curves({"CNN": cnn_run.val_curve, "MLP": mlp_run.val_curve},
                           ylabel="validation accuracy", title=f"{cfg.dataset}: CNN vs MLP"),
                    "val_accuracy.png")
    model = cnn.net
    xte, yte = data["x_test"].to(run.device), data["y_test"].to(run.device)
    cnn.eval()
    with torch.no_grad():
        probs = torch.cat([cnn(xb).softmax(1) for xb in xte.split(1000)])
        pred = probs.argmax(1)
        if cfg.dataset == "fashion-mnist":  # mirrored clothes keep their class
            mirrored = torch.cat([cnn(xb.flip(-1)).softmax(1) for xb in xte.split(1000)])
            tta = float(((probs + mirrored).argmax(1) == yte).float().mean())
            metrics["test_acc_flip_tta"] = tta
            run.print(f"CNN test accuracy averaging each image with its mirror image: {tta:.4f}")
    names = CLASS_NAMES[cfg.dataset]
    run.save_figure(_filters(model), "filters.png")
    run.save_figure(_feature_maps(cnn, xte[:1], names[int(yte[0])]), "feature_maps.png")
    run.save_figure(_confusion(yte.cpu(), pred.cpu(), names), "confusion.png")
    run.save_figure(_saliency(cnn, xte[:8], yte[:8], names), "saliency.png")
    return metrics


def _other_dataset(cfg: CNNClassifierConfig, run: Run) -> dict[str, float]:
    """Train the CNN on MNIST too, when asked and when the data layer can provide it."""
    if not cfg.also_mnist or cfg.dataset == "mnist":
        return {}
    try:
        data = _data("mnist", cfg, run.seed)
    except UsageError as e:  # not in the registry, or offline without a mirror
        run.print(f"MNIST part skipped: {e}")
        return {"mnist_available": 0.0}
    r = train_and_test(_cnn(data, cfg, "mnist"), data, cfg, run, cfg.mnist_epochs, "cnn-mnist")
    return {"mnist_available": 1.0, "mnist_test_acc": r.test_acc, "mnist_train_seconds": r.seconds}


def _filters(model: LectureCNN):
    w = model.features[0].weight.detach().cpu()[:, 0]  # (32, 1, 3, 3) -> (32, 3, 3)
    fig, axes = figure(8, (len(w) + 7) // 8, size=(1.1, 1.1))
    for ax, k in zip(axes.flat, w, strict=False):
        ax.imshow(k.numpy(), cmap="RdBu_r", vmin=-w.abs().max(), vmax=w.abs().max())
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle("learned first-layer 3x3 filters (red +, blue -)", y=1.02)
    return fig


def _feature_maps(cnn: nn.Sequential, x: torch.Tensor, label: str):
    with torch.no_grad():
        maps = cnn.net.feature_maps(cnn.standardize(x))[0][0].cpu()  # (32, 26, 26) conv1+ReLU
    fig, axes = figure(9, 4, size=(1.2, 1.2))
    axes.flat[0].imshow(x[0, 0].cpu().numpy(), cmap="gray")
    axes.flat[0].set_title(label, fontsize=8)
    for ax, m in zip(axes.flat[1:], maps, strict=False):
        ax.imshow(m.numpy(), cmap="viridis")
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle("input and its 32 first-layer feature maps (after ReLU)", y=1.02)
    return fig


def _confusion(y: torch.Tensor, pred: torch.Tensor, names: list[str]):
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = figure(size=(6.5, 6.0))
    ConfusionMatrixDisplay.from_predictions(y.numpy(), pred.numpy(), display_labels=names,
                                            ax=ax, colorbar=False, xticks_rotation=45)
    ax.set_title("CNN on the test set")
    fig.tight_layout()
    return fig


def _saliency(cnn: nn.Sequential, x: torch.Tensor, y: torch.Tensor, names: list[str]):
    sal = saliency(cnn, x).cpu()  # (8, 28, 28), for the predicted class
    with torch.no_grad():
        pred = cnn(x).argmax(1).cpu()
    fig, axes = figure(len(x), 2, size=(1.5, 1.6))
    for i in range(len(x)):
        axes[0, i].imshow(x[i, 0].cpu().numpy(), cmap="gray")
        axes[0, i].set_title(f"{names[int(pred[i])]}\n(true {names[int(y[i])]})", fontsize=7)
        axes[1, i].imshow(sal[i].numpy(), cmap="hot")
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle("|d score / d input| for the predicted class", y=1.02)
    return fig
