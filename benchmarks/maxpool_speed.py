"""introdl.nn.MaxPool2d against nn.MaxPool2d: same numbers, time per call, one process.

Side by side on the same tensors, interleaved (A, B, A, B, ...) so that machine load
falls on both; the median of the rounds is reported. Three measurements:

- the pooling layer alone, forward and forward + backward, at the lecture CNN's two
  pooling shapes for a batch of 128 (32x30x30 and 64x13x13);
- one Adam training step of Lecture 10's DigitNet on a batch of 128 32x32 RGB images,
  with each pooling layer;
- that both give identical outputs, gradients and weights after the training steps.

    python benchmarks/maxpool_speed.py --threads 1 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from introdl.adaptation.networks import DigitNet  # noqa: E402
from introdl.nn.pooling import MaxPool2d  # noqa: E402
from introdl.runtime import machine_description  # noqa: E402


def ms_per_call(fn, calls: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1e3


def digitnet(pool: type[nn.Module]) -> nn.Module:
    torch.manual_seed(0)
    net = DigitNet(10)
    for seq in net.modules():
        if isinstance(seq, nn.Sequential):
            for i, m in enumerate(seq):
                if isinstance(m, nn.MaxPool2d):
                    seq[i] = pool(2)
    return net


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--calls", type=int, default=30, help="calls timed per round")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(machine_description())
    pools = {"nn.MaxPool2d": nn.MaxPool2d(2), "introdl MaxPool2d": MaxPool2d(2)}

    print("\n| shape (N, C, H, W) | pass | nn.MaxPool2d ms | introdl ms | speed-up |")
    print("|---|---|---:|---:|---:|")
    for shape in [(128, 32, 30, 30), (128, 64, 13, 13)]:
        x = torch.relu(torch.randn(*shape)).requires_grad_()
        grad = torch.randn(shape[0], shape[1], shape[2] // 2, shape[3] // 2)
        outs = [pool(x) for pool in pools.values()]
        grads = [torch.autograd.grad(o, x, grad)[0] for o in outs]
        assert torch.equal(*outs) and torch.equal(*grads), "results differ"
        for name, fn in [
            ("forward", lambda pool, x=x: pool(x)),
            ("forward + backward", lambda pool, x=x, g=grad: pool(x).backward(g)),
        ]:
            times = {k: [] for k in pools}
            for _ in range(a.rounds):
                for k, pool in pools.items():
                    times[k].append(ms_per_call(lambda pool=pool, fn=fn: fn(pool), a.calls))
            base, ours = (statistics.median(times[k]) for k in pools)
            print(f"| {shape} | {name} | {base:.2f} | {ours:.2f} | {base / ours:.2f}× |")

    print("\n| model | nn.MaxPool2d ms/step | introdl ms/step | speed-up | same weights |")
    print("|---|---:|---:|---:|---|")
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(128, 3, 32, 32, generator=g), torch.randint(0, 10, (128,), generator=g)
    nets = {k: digitnet(type(pool)) for k, pool in pools.items()}
    opts = {k: torch.optim.Adam(n.parameters(), 1e-3) for k, n in nets.items()}

    def step(k):
        opts[k].zero_grad()
        F.cross_entropy(nets[k](x), y).backward()
        opts[k].step()

    times = {k: [] for k in pools}
    for _ in range(a.rounds):
        for k in pools:
            times[k].append(ms_per_call(lambda k=k: step(k), max(1, a.calls // 3)))
    same = all(torch.equal(u, v) for u, v in zip(*(n.parameters() for n in nets.values()),
                                                 strict=True))
    base, ours = (statistics.median(times[k]) for k in pools)
    print(f"| DigitNet (batch 128, Adam) | {base:.1f} | {ours:.1f} | {base / ours:.2f}× | "
          f"{'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
