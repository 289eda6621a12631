"""``fit``: the Lecture 1 training loop, with what a real run needs around it.

The heart is the four lines the lecture writes on the slide::

    output = model(x)              # forward
    loss = loss_fn(output, y)      # loss
    loss.backward()                # backward: dL/dW by the chain rule
    optimizer.step()               # W <- W - lr * dL/dW (or Adam, ...)

which minimise the empirical risk  L(W) = 1/N sum_i loss(f(x_i; W), y_i)  one
mini-batch at a time. Around them: mini-batches from a seeded per-epoch permutation
(so a resumed run sees exactly the batches an uninterrupted one would), validation
each epoch, early stopping that restores the best weights, gradient-norm clipping,
an LR schedule, atomic checkpoints, Ctrl-C and NaN handling, a progress bar, and
data parallelism under torchrun.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from introdl.config import require, validate
from introdl.engine import checkpoint as ckpt
from introdl.engine import distributed as dist_utils
from introdl.engine.optim import (
    OPTIMIZERS,
    PER_STEP_SCHEDULES,
    SCHEDULES,
    make_optimizer,
    make_scheduler,
)
from introdl.engine.precision import PRECISIONS, autocast, autocast_dtype
from introdl.engine.progress import ProgressBar
from introdl.errors import CheckpointUnreadable, TrainingDiverged, UsageError

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class TrainConfig:
    epochs: int = 10  # passes over the training set
    batch_size: int = 64  # global batch (split across processes under torchrun)
    optimizer: str = "adam"  # sgd | momentum | adam | adagrad | rmsprop | adadelta
    lr: float = 1e-3  # learning rate
    momentum: float = 0.9  # used by optimizer="momentum"
    weight_decay: float = 0.0  # L2 penalty
    schedule: str | None = None  # None | cosine | step | exponential | onecycle (per step)
    clip_grad_norm: float | None = None  # max global gradient norm; None = no clipping
    patience: int | None = None  # early stopping: epochs without val-loss improvement
    checkpoint_every: int = 0  # also checkpoint every N optimizer steps (0 = per epoch only)
    eval_batch_size: int = 512  # batch size for validation
    seed: int = 0  # seeds the per-epoch shuffle
    num_workers: int = 0  # DataLoader workers for non-tensor datasets
    precision: str = "fp32"  # fp32 | bf16 (autocast forward and loss) | auto (bf16 where native)
    channels_last: bool = False  # NHWC memory layout for the model and 4-D inputs

    def validate(self) -> None:
        """Names and counts the naming conventions of :func:`introdl.config.validate` miss."""
        if self.optimizer.lower() not in (*OPTIMIZERS, "sgd-momentum", "sgd+momentum"):
            raise UsageError(f"unknown optimizer {self.optimizer!r}; use one of "
                             f"{', '.join(OPTIMIZERS)}")
        if self.schedule not in (None, *SCHEDULES, ""):
            raise UsageError(f"unknown schedule {self.schedule!r}; use one of "
                             f"{', '.join(SCHEDULES)}")
        require(self, "checkpoint_every", self.checkpoint_every >= 0, "must be 0 or more")
        require(self, "num_workers", self.num_workers >= 0, "must be 0 or more")
        if self.precision not in PRECISIONS:
            raise UsageError(f"unknown precision {self.precision!r}; use one of "
                             f"{', '.join(PRECISIONS)}")



@dataclass
class History:
    """What happened during ``fit``: per-epoch curves and how it ended."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metrics: list[dict[str, float]] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # 1-based epoch with the lowest validation loss
    best_val_loss: float | None = None
    stopped_early: bool = False
    steps: int = 0
    samples: int = 0

    @property
    def samples_per_second(self) -> float:
        t = sum(self.epoch_seconds)
        return self.samples / t if t > 0 else float("nan")

    def state(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _epoch_batches(n: int, batch_size: int, epoch: int, seed: int, world: int = 1
                   ) -> list[torch.Tensor]:
    """The epoch's global mini-batches: a permutation seeded by (seed, epoch), cut up.

    Under torchrun a last batch smaller than the number of processes is dropped, so
    every process always holds at least one example.
    """
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    batches = list(torch.randperm(n, generator=g).split(batch_size))
    if batches and len(batches[-1]) < world:
        batches.pop()
    return batches


def _load(dataset: Dataset, index_batches: list[torch.Tensor], num_workers: int = 0,
          seed: int = 0) -> Iterator[tuple]:
    """Yield the batches named by ``index_batches``, in order.

    A ``TensorDataset`` is sliced directly (one gather per tensor, no collation);
    anything else goes through one DataLoader for the whole list. The DataLoader
    gets its own generator (``seed``, from which worker processes are seeded) so it
    never draws from the global RNG, which would make a resumed run's dropout masks
    differ from an uninterrupted run's.
    """
    if isinstance(dataset, TensorDataset):
        for idx in index_batches:
            yield tuple(t[idx] for t in dataset.tensors)
        return
    yield from DataLoader(dataset, batch_sampler=[i.tolist() for i in index_batches],
                          num_workers=num_workers, generator=torch.Generator().manual_seed(seed))


def _to(batch: tuple, device: torch.device) -> tuple:
    return tuple(b.to(device, non_blocking=True) if torch.is_tensor(b) else b for b in batch)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loss_fn: nn.Module,
    dataset: Dataset,
    *,
    batch_size: int = 512,
    device: torch.device | str = "cpu",
    metrics: Mapping[str, Metric] | None = None,
) -> dict[str, float]:
    """Mean loss and metrics over ``dataset`` (batch-size weighted), in eval mode."""
    was_training = model.training
    model.eval()
    device = torch.device(device)
    totals: dict[str, float] = {"loss": 0.0}
    n = len(dataset)  # type: ignore[arg-type]
    for batch in _load(dataset, list(torch.arange(n).split(batch_size))):
        x, y = _to(batch, device)
        out = model(x)
        k = len(y)
        totals["loss"] += float(loss_fn(out, y)) * k
        for name, fn in (metrics or {}).items():
            totals[name] = totals.get(name, 0.0) + float(fn(out, y)) * k
    model.train(was_training)
    return {k: v / max(n, 1) for k, v in totals.items()}


class _StopFlag:
    """Turns Ctrl-C (SIGINT) or SIGTERM into a flag checked between steps.

    A step is never cut in half; ``fit`` saves and stops at the next step boundary.
    SIGTERM counts too: it is how schedulers and ``kill`` ask a process to stop, and
    torchrun passes on to its workers whichever of the two it receives.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.hit = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def _handle(self, signum, frame):  # noqa: ARG002
        if self.hit:  # asked twice: stop at once
            raise KeyboardInterrupt
        self.hit = True

    def __exit__(self, *exc) -> bool:
        for s, old in self._old.items():
            signal.signal(s, old)
        return False


def fit(
    model: nn.Module,
    loss_fn: nn.Module,
    train_set: Dataset,
    cfg: TrainConfig,
    *,
    val_set: Dataset | None = None,
    device: torch.device | str = "cpu",
    metrics: Mapping[str, Metric] | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    optimizer: torch.optim.Optimizer | None = None,
    log: Callable[..., None] | None = None,
    progress: bool = True,
    desc: str = "train",
) -> History:
    """Train ``model`` on ``train_set`` with ``loss_fn`` under ``cfg``; return the History.

    Args:
        model: any module; moved to ``device`` (wrapped in DDP under torchrun).
        loss_fn: an ``nn.Module`` taking ``(model(x), y)`` and returning the batch mean.
        train_set: yields ``(x, y)`` pairs; a ``TensorDataset`` takes a fast path.
        val_set: evaluated each epoch; needed for early stopping (``cfg.patience``).
        metrics: name -> fn(output, target) averaged on ``val_set`` (e.g. accuracy).
        checkpoint_dir: where ``last.pt`` is written atomically (each epoch, every
            ``cfg.checkpoint_every`` steps, on Ctrl-C and at the end).
        resume: continue from ``checkpoint_dir/last.pt`` when it exists; on the CPU the
            result equals an uninterrupted run with the same seed, even mid-epoch.
        optimizer: use this instead of building one from ``cfg``.
        log: called as ``log(epoch=..., train_loss=..., ...)`` each epoch (e.g. ``run.log``).

    Raises:
        TrainingDiverged: the loss became NaN or infinite (the last checkpoint is kept).
        KeyboardInterrupt: after Ctrl-C or SIGTERM, once the current step is done and saved.
    """
    validate(cfg)  # epochs, batch size, lr, names: one line each, before any work
    if cfg.patience is not None and val_set is None:
        raise UsageError("early stopping (patience) needs a val_set to watch; pass val_set")
    device = torch.device(device)
    rank, world = dist_utils.rank_world()
    if cfg.batch_size < world:
        raise UsageError(f"batch_size {cfg.batch_size} is smaller than the {world} processes")
    model.to(device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    amp = autocast_dtype(cfg.precision, device)
    opt = optimizer or make_optimizer(model.parameters(), cfg.optimizer, cfg.lr, cfg.momentum,
                                      cfg.weight_decay)
    n = len(train_set)  # type: ignore[arg-type]
    steps_per_epoch = len(_epoch_batches(n, cfg.batch_size, 0, cfg.seed, world))
    sched = make_scheduler(opt, cfg.schedule, cfg.epochs, steps_per_epoch)
    step_sched = sched if cfg.schedule in PER_STEP_SCHEDULES else None
    epoch_sched = None if step_sched else sched
    hist = History()
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs = 0
    start_epoch, start_batch = 0, 0
    partial: dict[str, float] = {"running": 0.0, "seen": 0, "seconds": 0.0}
    path = Path(checkpoint_dir) / "last.pt" if checkpoint_dir else None
    running, seen, t0 = 0.0, 0, time.perf_counter()  # this epoch's loss sum, samples, start

    def epoch_sum(x: float) -> float:
        """A per-process sum added up over all processes."""
        if world == 1:
            return x
        return float(dist_utils.all_sum(torch.tensor(x, dtype=torch.float64, device=device)))

    def save(epoch: int, batch: int) -> None:
        """Checkpoint 'about to run step ``batch`` of ``epoch``' (collective under DDP)."""
        if path is None:
            return
        epoch_loss = epoch_sum(running)  # this epoch so far, all processes
        if rank == 0:
            ckpt.save(path, {
                "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict() if sched else None, "epoch": epoch,
                "batch": batch, "history": hist.state(), "best_state": best_state,
                "bad_epochs": bad_epochs, "rng": ckpt.rng_state(),
                "partial": {"running": epoch_loss, "seen": seen,
                            "seconds": time.perf_counter() - t0},
            })

    if resume and path is not None and path.exists():
        s = ckpt.load(path)  # on the CPU: RNG states must stay CPU tensors
        try:
            model.load_state_dict(s["model"])
            opt.load_state_dict(s["optimizer"])
            if sched and s["scheduler"]:
                sched.load_state_dict(s["scheduler"])
            hist = History(**s["history"])
            best_state, bad_epochs = s["best_state"], s["bad_epochs"]
            start_epoch, start_batch = s["epoch"], s["batch"]
            partial = s["partial"]
            ckpt.set_rng_state(s["rng"])
        except (KeyError, TypeError, ValueError, RuntimeError) as e:  # not this model's file
            what = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
            raise CheckpointUnreadable(f"checkpoint {path} does not fit this training run "
                                       f"({what}); {ckpt.START_OVER}") from None
    net = dist_utils.wrap(model, device) if world > 1 else model

    bar = ProgressBar(total=cfg.epochs * steps_per_epoch, desc=desc,
                      enabled=progress and rank == 0)
    bar.advance(start_epoch * steps_per_epoch + start_batch)
    model.train()
    with bar, _StopFlag() as stop:
        for epoch in range(start_epoch, cfg.epochs):
            if hist.stopped_early:
                break
            batches = _epoch_batches(n, cfg.batch_size, epoch, cfg.seed, world)
            first = start_batch if epoch == start_epoch else 0
            running, seen, t0 = 0.0, 0, time.perf_counter()
            if first:  # resumed mid-epoch: carry on the partial epoch's sums
                running = partial["running"] if rank == 0 else 0.0
                seen, t0 = int(partial["seen"]), t0 - partial["seconds"]
            shards = [idx[rank::world] for idx in batches[first:]]  # this process's share
            loader_seed = (cfg.seed * 100_003 + epoch) * 1_009 + rank  # new each epoch/rank
            for b, batch in enumerate(_load(train_set, shards, cfg.num_workers, loader_seed),
                                      start=first):
                x, y = _to(batch, device)
                if cfg.channels_last and x.dim() == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
                # Under DDP each process's mean loss is weighted by its share of the
                # batch, so DDP's gradient average equals the gradient of the global
                # batch mean even when shards differ in size by one.
                share = len(y) * world / len(batches[b])
                # --- the lecture's loop -------------------------------------------------
                opt.zero_grad(set_to_none=True)
                with autocast(amp, device):
                    output = net(x)  # forward
                    loss = loss_fn(output, y)  # loss
                value = loss.item()  # one host sync per step, for the NaN check and the log
                bad = not math.isfinite(value)
                if dist_utils.any_across(bad, device=device):
                    raise TrainingDiverged(
                        f"loss became {value if bad else 'NaN/inf in another process'} at "
                        f"epoch {epoch + 1}, step {b + 1}; lower the learning rate or clip "
                        "gradients (the last checkpoint is kept)")
                (loss * share if world > 1 else loss).backward()  # backward
                if cfg.clip_grad_norm:
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
                opt.step()  # update
                # ------------------------------------------------------------------------
                if step_sched:
                    step_sched.step()
                running += value * len(y)
                seen += len(batches[b])
                hist.steps += 1
                hist.samples += len(batches[b])
                if bar.due():
                    bar.update(hist.steps, loss=value, samples=hist.samples)
                if b + 1 < len(batches):  # (the end of the epoch checkpoints anyway)
                    if dist_utils.any_across(stop.hit, device=device):  # Ctrl-C: save, stop
                        save(epoch, b + 1)
                        raise KeyboardInterrupt
                    if cfg.checkpoint_every and hist.steps % cfg.checkpoint_every == 0:
                        save(epoch, b + 1)
            # --- end of epoch: validation, schedule, early stopping, checkpoint ----------
            hist.epoch_seconds.append(time.perf_counter() - t0)
            hist.train_loss.append(epoch_sum(running) / max(seen, 1))
            hist.lr.append(opt.param_groups[0]["lr"])
            rec: dict[str, Any] = {"epoch": epoch + 1, "train_loss": hist.train_loss[-1],
                                   "lr": hist.lr[-1]}
            if val_set is not None:  # every process evaluates all of it: same weights
                v = evaluate(model, loss_fn, val_set, batch_size=cfg.eval_batch_size,
                             device=device, metrics=metrics)
                hist.val_loss.append(v["loss"])
                hist.val_metrics.append({k: x for k, x in v.items() if k != "loss"})
                rec.update({f"val_{k}": x for k, x in v.items()})
                if hist.best_val_loss is None or v["loss"] < hist.best_val_loss:
                    hist.best_val_loss, hist.best_epoch, bad_epochs = v["loss"], epoch + 1, 0
                    if cfg.patience is not None:
                        best_state = {k: t.detach().clone()
                                      for k, t in model.state_dict().items()}
                else:
                    bad_epochs += 1
                    if cfg.patience is not None and bad_epochs >= cfg.patience:
                        hist.stopped_early = True
            if epoch_sched:
                epoch_sched.step()
            bar.update(hist.steps, loss=hist.train_loss[-1], samples=hist.samples,
                       val=hist.val_loss[-1] if hist.val_loss else None)
            running, seen = 0.0, 0
            save(epoch + 1, 0)
            # Logged only once the epoch is checkpointed: a run killed between the two
            # resumes after this epoch, so its line is never written twice.
            if log and rank == 0:
                log(**rec)
            if dist_utils.any_across(stop.hit, device=device):  # Ctrl-C: saved just above
                raise KeyboardInterrupt
    if best_state is not None:  # early stopping: the best-validation weights, not the last
        model.load_state_dict(best_state)
        save(len(hist.train_loss), 0)
    return hist
