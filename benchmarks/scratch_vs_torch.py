"""Step time of the from-scratch NumPy MLP vs the same MLP in PyTorch, on the CPU.

One training step = forward, softmax cross-entropy, backward, SGD-with-momentum update,
on the same float32 batch with the same starting weights. Both run in this process,
one BLAS/OpenMP thread each by default, and their timing blocks are interleaved
(NumPy, torch, NumPy, torch, ...) so background load hits both alike.

    python benchmarks/scratch_vs_torch.py                 # both presets
    python benchmarks/scratch_vs_torch.py --repeats 15 --steps 100 --threads 2
"""

from __future__ import annotations

import argparse
import os
import sys


def _threads_from_argv() -> str:
    if "--threads" in sys.argv:
        return sys.argv[sys.argv.index("--threads") + 1]
    return "1"


# BLAS thread pools read these when NumPy/torch are first imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()

import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from introdl.data import load_arrays  # noqa: E402
from introdl.errors import DataUnavailable  # noqa: E402
from introdl.runtime import cpu_name  # noqa: E402
from introdl.scratch import SGD, SoftmaxCrossEntropy, mlp, to_torch  # noqa: E402

PRESETS = {  # name -> (dataset, layer sizes, batch size)
    "digits 64-64-64-10": ("digits", [64, 64, 64, 10], 32),
    "fashion 784-256-256-10": ("fashion-mnist", [784, 256, 256, 10], 128),
}


def batch(dataset: str, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """One float32 batch ``(x: (size, D), y: (size,))`` of real images, scaled to [0, 1]."""
    try:
        X, y = load_arrays(dataset, "train")
        src = dataset
    except DataUnavailable:  # still benchmark, on noise of the same shape
        X, y = np.random.default_rng(seed).random((size, 28, 28)), np.zeros(size, np.int64)
        src = "random (dataset not installed)"
    idx = np.random.default_rng(seed).choice(len(X), size, replace=False)
    x = X[idx].reshape(size, -1).astype(np.float32)  # (size, H*W)
    return x / x.max(), y[idx], src


def time_blocks(sizes: list[int], x: np.ndarray, y: np.ndarray, steps: int, repeats: int,
                lr: float = 0.01, momentum: float = 0.9) -> tuple[list[float], list[float]]:
    """Per-step milliseconds for each repeat: ``(numpy_ms, torch_ms)``, blocks interleaved."""
    net = mlp(sizes, "relu", seed=0, dtype=np.float32)
    tnet = to_torch(net)
    loss_fn, opt = SoftmaxCrossEntropy(), SGD(net.params(), lr, momentum)
    tloss = torch.nn.CrossEntropyLoss()
    topt = torch.optim.SGD(tnet.parameters(), lr=lr, momentum=momentum)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def numpy_step() -> None:
        loss_fn(net(x), y)
        net.backward(loss_fn.backward())
        opt.step()

    def torch_step() -> None:
        topt.zero_grad(set_to_none=True)
        tloss(tnet(xt), yt).backward()
        topt.step()

    for step in (numpy_step, torch_step):  # warm-up: allocations, first-call dispatch
        for _ in range(5):
            step()
    np_ms, t_ms = [], []
    for _ in range(repeats):
        for step, out in ((numpy_step, np_ms), (torch_step, t_ms)):
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            out.append((time.perf_counter() - t0) / steps * 1e3)
    return np_ms, t_ms


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9, help="interleaved timing blocks each")
    ap.add_argument("--steps", type=int, default=50, help="training steps per block")
    ap.add_argument("--threads", type=int, default=1, help="BLAS/torch threads")
    ap.add_argument("--preset", choices=list(PRESETS), action="append",
                    help="run only these presets (default: all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    console = Console(width=130)
    console.print(f"[bold]machine[/bold]: {cpu_name()}, {os.cpu_count()} logical cores; "
                  f"Python {platform.python_version()}, NumPy {np.__version__}, "
                  f"torch {torch.__version__}; {args.threads} thread(s); "
                  f"{args.repeats} interleaved blocks x {args.steps} steps")
    table = Table(title="one SGD step (forward + loss + backward + update), float32, CPU")
    for col in ("net", "batch", "data", "NumPy ms/step (median, min)",
                "torch ms/step (median, min)", "NumPy / torch"):
        table.add_column(col, justify="right" if "ms" in col or "/" in col else "left")
    for name in args.preset or list(PRESETS):
        dataset, sizes, bs = PRESETS[name]
        x, y, src = batch(dataset, bs)
        np_ms, t_ms = time_blocks(sizes, x, y, args.steps, args.repeats)
        m_np, m_t = statistics.median(np_ms), statistics.median(t_ms)
        table.add_row(name, str(bs), src, f"{m_np:.3f} ({min(np_ms):.3f})",
                      f"{m_t:.3f} ({min(t_ms):.3f})", f"{m_np / m_t:.2f}x")
    console.print(table)


if __name__ == "__main__":
    main()
