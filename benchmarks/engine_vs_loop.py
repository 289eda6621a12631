"""Engine overhead: ``introdl.engine.fit`` against a plain hand-written PyTorch loop.

Both train the same MLP (784-256-128-10, ReLU) with Adam on Fashion-MNIST, on the same
mini-batches in the same order, so they do identical arithmetic and must end with
identical weights (checked). Runs alternate (plain, engine, engine with its progress
bar; order rotated each repeat) so a busy machine slows them alike. Reported:
median samples/s of each and the engine/plain ratio (target >= 0.97), by wall clock
and by this process's CPU time (which other jobs on a shared machine disturb less).

    python benchmarks/engine_vs_loop.py                 # 20k images, 5 repeats, 1 thread
    python benchmarks/engine_vs_loop.py --n 60000 --repeats 3 --threads 2
    python benchmarks/engine_vs_loop.py --model linear   # a step so cheap overhead shows

The bar only animates (and costs anything) on a terminal; to measure it with output
going elsewhere, make rich treat stderr as one and throw the drawing away:

    TTY_COMPATIBLE=1 TTY_INTERACTIVE=1 python benchmarks/engine_vs_loop.py 2>/dev/null
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch
from rich.console import Console
from rich.table import Table
from torch import nn
from torch.utils.data import TensorDataset

from introdl.data import load_arrays
from introdl.engine import TrainConfig, fit
from introdl.runtime import cpu_name


def make_model(kind: str, seed: int) -> nn.Module:
    """``mlp``: the benchmark's network; ``linear``: so cheap that per-step overhead shows."""
    torch.manual_seed(seed)
    if kind == "linear":
        return nn.Linear(784, 10)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def plain_loop(model: nn.Module, X: torch.Tensor, y: torch.Tensor, cfg: TrainConfig) -> None:
    """The loop as a tutorial writes it; the permutation is seeded as the engine seeds it."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(cfg.epochs):
        g = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        perm = torch.randperm(len(X), generator=g)
        for i in range(0, len(X), cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            x, t = X[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), t)
            loss.backward()
            opt.step()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="training images used")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", choices=("mlp", "linear"), default="mlp")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    Xn, yn = load_arrays("fashion-mnist", split="train")
    X = torch.tensor(Xn[: a.n], dtype=torch.float32).div_(255).reshape(-1, 784)  # (N, 784)
    y = torch.tensor(yn[: a.n])
    cfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, optimizer="adam", lr=1e-3)
    ds = TensorDataset(X, y)

    def run(name: str) -> tuple[float, float, nn.Module]:
        m = make_model(a.model, seed=0)
        t0, c0 = time.perf_counter(), time.process_time()
        if name == "plain loop":
            plain_loop(m, X, y, cfg)
        else:
            fit(m, nn.CrossEntropyLoss(), ds, cfg, progress=name == "engine + bar")
        return time.perf_counter() - t0, time.process_time() - c0, m

    names = ["plain loop", "engine", "engine + bar"]
    for name in names:  # warm-up: lazy imports, allocator
        run(name)
    secs: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    weights: dict[str, nn.Module] = {}
    for r in range(a.repeats):
        for name in names[r % 3:] + names[: r % 3]:
            s, c, weights[name] = run(name)
            secs[name].append(s)
            cpu[name].append(c)

    ref = weights["plain loop"].state_dict()
    same = all(torch.equal(ref[k], w.state_dict()[k]) for w in weights.values() for k in ref)
    samples = a.n * a.epochs
    rate = {n: samples / statistics.median(v) for n, v in secs.items()}
    cpu_rate = {n: samples / statistics.median(v) for n, v in cpu.items()}

    tty = sys.stdout.isatty()
    console = Console(force_terminal=tty, width=None if tty else 110)  # not swayed by TTY_*
    net = "MLP 784-256-128-10" if a.model == "mlp" else "linear 784-10"
    t = Table(title=f"fit vs plain loop · {net} · Fashion-MNIST {a.n:,} images "
                    f"× {a.epochs} epoch · batch {a.batch_size} · Adam (medians)")
    for col in ("loop", "samples/s (wall)", "min–max (wall)", "vs plain (wall)",
                "samples per CPU-s", "vs plain (CPU)"):
        t.add_column(col, justify="right" if col != "loop" else "left")
    for n in names:
        spread = f"{samples / max(secs[n]):,.0f}–{samples / min(secs[n]):,.0f}"
        t.add_row(n, f"{rate[n]:,.0f}", spread, f"{rate[n] / rate['plain loop']:.3f}",
                  f"{cpu_rate[n]:,.0f}", f"{cpu_rate[n] / cpu_rate['plain loop']:.3f}")
    console.print(t)
    steps = a.epochs * -(-a.n // a.batch_size)
    for n in names[1:]:
        extra = statistics.median(cpu[n]) - statistics.median(cpu["plain loop"])
        console.print(f"{n}: {1e6 * extra / steps:+.1f} µs CPU per step over the plain loop's "
                      f"{1e6 * statistics.median(cpu['plain loop']) / steps:.1f} µs "
                      f"({steps} steps per run; medians)")
    console.print(f"machine: {cpu_name()} · {os.cpu_count()} cores · torch {torch.__version__} "
                  f"· {a.threads} thread(s) · {a.repeats} interleaved repeats · "
                  f"identical final weights: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
