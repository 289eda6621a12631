"""Validation accuracy of the lecture CNN under one training recipe: how the recipe was chosen.

Trains ``[RandomShiftFlip] -> Standardize -> LectureCNN(hidden=128)`` on Fashion-MNIST's
training images minus 5,000 held out (the ``cnn-classifier`` split, seed ``--seed``)
with :func:`introdl.engine.fit` and prints the held-out **validation** accuracy after
every epoch, and at the end with and without averaging each image with its mirror
image. The test set is not loaded: settings are chosen on validation only.

    python benchmarks/cnn_recipe_sweep.py --epochs 4 --lr 5e-3 --label-smoothing 0.1
    python benchmarks/cnn_recipe_sweep.py --epochs 20 --shift 2 --flip
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import TensorDataset  # noqa: E402

from introdl.engine import TrainConfig, accuracy, fit  # noqa: E402
from introdl.runtime import machine_description  # noqa: E402
from introdl.vision.augment import RandomShiftFlip  # noqa: E402
from introdl.vision.classify import LectureCNN  # noqa: E402
from introdl.vision.experiments.cnn_classifier import Standardize, load_images  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--schedule", default="onecycle")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--precision", default="auto")
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--shift", type=int, default=0, help="augmentation: max shift in pixels")
    p.add_argument("--flip", action="store_true", help="augmentation: random mirror")
    p.add_argument("--dropout", type=float, default=0.0, help="before the output layer")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    print(machine_description())
    print(vars(args))

    x, y = load_images("fashion-mnist", "train")
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))
    val = TensorDataset(x[perm][:5000], y[perm][:5000])
    xtr, ytr = x[perm][5000:], y[perm][5000:]
    model = nn.Sequential(RandomShiftFlip(args.shift, args.flip),
                          Standardize(float(xtr.mean()), float(xtr.std())),
                          LectureCNN(hidden=128, dropout=args.dropout))
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      schedule=args.schedule, weight_decay=args.weight_decay,
                      precision=args.precision, channels_last=not args.no_channels_last,
                      seed=args.seed)
    t0, c0 = time.perf_counter(), time.process_time()

    def on_epoch(epoch: int, val_acc: float, **_: float) -> None:
        print(f"  epoch {epoch}: validation accuracy {val_acc:.4f}  "
              f"wall {time.perf_counter() - t0:.0f} s  CPU {time.process_time() - c0:.0f} s",
              flush=True)

    fit(model, nn.CrossEntropyLoss(label_smoothing=args.label_smoothing),
        TensorDataset(xtr, ytr), cfg, val_set=val, metrics={"acc": accuracy}, log=on_epoch,
        progress=False)
    model.eval()
    xv, yv = val.tensors
    with torch.no_grad():
        p1 = torch.cat([model(b).softmax(1) for b in xv.split(1000)])
        p2 = torch.cat([model(b.flip(-1)).softmax(1) for b in xv.split(1000)])
    print(f"validation accuracy {float((p1.argmax(1) == yv).float().mean()):.4f}, averaged "
          f"with the mirror image {float(((p1 + p2).argmax(1) == yv).float().mean()):.4f}")


if __name__ == "__main__":
    main()
