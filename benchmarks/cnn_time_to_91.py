"""Time for the lecture's CNN to reach 91% test accuracy on Fashion-MNIST: plain loop vs recipe.

Both sides train the same model, ``Standardize -> LectureCNN(hidden=128)`` (Conv 32 ->
ReLU -> pool -> Conv 64 -> ReLU -> pool -> Dense 128 -> Dense 10, no normalisation
layers), on the same 55,000 training images, in this one process, one after the other:

- ``plain``: the loop people write first — a shuffling ``DataLoader`` of batch 64, Adam
  at 1e-3, no schedule, fp32, NCHW;
- ``recipe``: the ``cnn-classifier`` experiment's training recipe through
  :func:`introdl.engine.fit` — its batch size, Adam with a one-cycle learning-rate
  schedule over ``--recipe-epochs``, label smoothing, bfloat16 autocast where the CPU
  does bf16 natively, and the channels-last memory layout. The experiment's shift/flip
  augmentation is left out here: it pays off only in longer runs (it slows the first
  epochs down).

After every epoch each side scores the whole 10,000-image test set (measured only —
never used to fit, stop early or choose anything but when to stop the stopwatch); it
stops the first time test accuracy reaches ``--target``. Reported per side: epochs,
wall-clock and process CPU seconds to the target (test scoring included), and the
ratio plain / recipe.

    python benchmarks/cnn_time_to_91.py                 # 2 threads, both sides
    python benchmarks/cnn_time_to_91.py --threads 1 --only recipe
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

# As the CLI does: idle OpenMP threads sleep instead of spinning, so a shared machine's
# other jobs do not turn into CPU time charged to this process.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from introdl.engine import accuracy, evaluate, fit  # noqa: E402
from introdl.runtime import machine_description  # noqa: E402
from introdl.vision.classify import LectureCNN  # noqa: E402
from introdl.vision.experiments.cnn_classifier import (  # noqa: E402
    CNNClassifierConfig,
    Standardize,
    load_images,
    train_config,
)


class Reached(Exception):
    """Raised from the per-epoch callback to stop training at the target."""


class Stopwatch:
    """Wall and CPU seconds since start, and one row per scored epoch."""

    def __init__(self, name: str, target: float) -> None:
        self.name, self.target = name, target
        self.rows: list[tuple[int, float, float, float]] = []
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def epoch(self, epoch: int, acc: float) -> None:
        row = (epoch, acc, time.perf_counter() - self.t0, time.process_time() - self.c0)
        self.rows.append(row)
        print(f"  {self.name} epoch {epoch}: test accuracy {acc:.4f}  wall {row[2]:.1f} s  "
              f"CPU {row[3]:.1f} s", flush=True)
        if acc >= self.target:
            raise Reached

    def result(self) -> tuple[int, float, float, float] | None:
        hit = [r for r in self.rows if r[1] >= self.target]
        return hit[0] if hit else None


def fresh_model(xtr: torch.Tensor, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(Standardize(float(xtr.mean()), float(xtr.std())), LectureCNN(hidden=128))


def plain_loop(xtr, ytr, test, max_epochs: int, seed: int, watch: Stopwatch) -> None:
    """The reference: a plain PyTorch loop, written as a tutorial writes it."""
    model = fresh_model(xtr, seed)
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, max_epochs + 1):
        model.train()
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        watch.epoch(epoch, evaluate(model, loss_fn, test, metrics={"acc": accuracy})["acc"])


def recipe(xtr, ytr, test, epochs: int, seed: int, watch: Stopwatch) -> None:
    """The project's recipe: the ``cnn-classifier`` defaults, one-cycle over ``epochs``."""
    cfg = CNNClassifierConfig(epochs=epochs)
    model = fresh_model(xtr, seed)
    fit(model, nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing),
        TensorDataset(xtr, ytr), train_config(cfg, epochs, seed), val_set=test,
        metrics={"acc": accuracy}, log=lambda epoch, val_acc, **_: watch.epoch(epoch, val_acc),
        progress=False)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", type=float, default=0.91, help="test accuracy to reach")
    p.add_argument("--max-epochs", type=int, default=12, help="plain loop: give up after this")
    p.add_argument("--recipe-epochs", type=int, default=5, help="recipe: one-cycle length")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", choices=("plain", "recipe"), help="run one side only")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(machine_description())
    cfg = CNNClassifierConfig(epochs=args.recipe_epochs)
    tc = train_config(cfg, args.recipe_epochs, args.seed)
    print(f"recipe: batch {tc.batch_size}, Adam lr {tc.lr} ({tc.schedule}), label smoothing "
          f"{cfg.label_smoothing}, precision {tc.precision}, channels_last {tc.channels_last}")

    xtr, ytr = load_images("fashion-mnist", "train")
    perm = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(args.seed))
    xtr, ytr = xtr[perm][5000:], ytr[perm][5000:]  # as the experiment: 5,000 held out
    test = TensorDataset(*load_images("fashion-mnist", "test"))

    sides: dict[str, Callable[[Stopwatch], None]] = {
        "plain": lambda w: plain_loop(xtr, ytr, test, args.max_epochs, args.seed, w),
        "recipe": lambda w: recipe(xtr, ytr, test, args.recipe_epochs, args.seed, w),
    }
    results = {}
    for name, run in sides.items():
        if args.only and name != args.only:
            continue
        watch = Stopwatch(name, args.target)
        try:
            run(watch)
        except Reached:
            pass
        results[name] = watch.result()

    print(f"\ntime to {args.target:.0%} test accuracy ({args.threads} threads):")
    print("| side | epochs | wall s | CPU s |\n|---|---:|---:|---:|")
    for name, r in results.items():
        if r is None:
            print(f"| {name} | not reached | | |")
        else:
            print(f"| {name} | {r[0]} | {r[2]:.1f} | {r[3]:.1f} |")
    if all(results.get(k) for k in ("plain", "recipe")):
        pl, rc = results["plain"], results["recipe"]
        print(f"ratio plain / recipe: wall {pl[2] / rc[2]:.2f}x, CPU {pl[3] / rc[3]:.2f}x")


if __name__ == "__main__":
    main()
