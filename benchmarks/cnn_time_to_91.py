"""Time for the lecture's CNN to reach 91% test accuracy on Fashion-MNIST, on the CPU.

The model and recipe are the ``cnn-classifier`` experiment's defaults (LectureCNN with a
128-unit dense layer, Adam lr 1e-3 cosine-decayed over ``--max-epochs``, batch 64,
standardised inputs, 55,000 training images). After every epoch the whole test set
is scored; the run stops the first time test accuracy reaches ``--target``. Reported:
epochs, wall-clock seconds and this process's CPU seconds up to that point (test-set
evaluation included), with the machine's description.

    python benchmarks/cnn_time_to_91.py                     # 1 thread, up to 10 epochs
    python benchmarks/cnn_time_to_91.py --threads 2 --max-epochs 8
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import TensorDataset

from introdl.engine import TrainConfig, accuracy, fit
from introdl.runtime import machine_description
from introdl.vision.classify import LectureCNN
from introdl.vision.experiments.cnn_classifier import Standardize, load_images


class Reached(Exception):
    """Raised from the per-epoch log callback to stop training at the target."""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", type=float, default=0.91, help="test accuracy to reach")
    p.add_argument("--max-epochs", type=int, default=10, help="give up after this many epochs")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    print(machine_description())

    xtr, ytr = load_images("fashion-mnist", "train")
    perm = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(args.seed))
    xtr, ytr = xtr[perm][5000:], ytr[perm][5000:]  # the experiment holds out 5,000 for validation
    test = TensorDataset(*load_images("fashion-mnist", "test"))
    model = nn.Sequential(Standardize(float(xtr.mean()), float(xtr.std())), LectureCNN(hidden=128))

    t0, c0 = time.perf_counter(), time.process_time()
    rows: list[tuple[int, float, float, float]] = []

    def on_epoch(epoch: int, val_acc: float, **_: float) -> None:
        rows.append((epoch, val_acc, time.perf_counter() - t0, time.process_time() - c0))
        print(f"epoch {epoch}: test accuracy {val_acc:.4f}  wall {rows[-1][2]:.0f} s  "
              f"CPU {rows[-1][3]:.0f} s", flush=True)
        if val_acc >= args.target:
            raise Reached

    cfg = TrainConfig(epochs=args.max_epochs, batch_size=64, lr=1e-3, schedule="cosine",
                      seed=args.seed)
    try:
        # the test set is the "validation" set here: it is only measured, never used to fit
        fit(model, nn.CrossEntropyLoss(), TensorDataset(xtr, ytr), cfg, val_set=test,
            metrics={"acc": accuracy}, log=on_epoch, progress=False)
    except Reached:
        e, acc, wall, cpu = rows[-1]
        print(f"reached {acc:.4f} >= {args.target} after {e} epochs: {wall:.0f} s wall, "
              f"{cpu:.0f} s CPU")
        return
    print(f"did not reach {args.target} in {args.max_epochs} epochs (best "
          f"{max(r[1] for r in rows):.4f})")


if __name__ == "__main__":
    main()
