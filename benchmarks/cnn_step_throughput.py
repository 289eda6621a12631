"""Training throughput of the lecture CNN per recipe ingredient: batch size, layout, bf16, compile.

One process, the same random batch, Adam steps (forward, cross-entropy, backward,
update) timed after 3 warm-up steps; reported as training images per wall-clock second
and the seconds one 55,000-image epoch would take. This is how the recipe's batch
size, ``channels_last`` and bf16 autocast were chosen (and ``torch.compile`` dropped).

    python benchmarks/cnn_step_throughput.py --threads 2
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI

import torch  # noqa: E402
from torch import nn  # noqa: E402

from introdl.engine.precision import bf16_is_native  # noqa: E402
from introdl.runtime import machine_description  # noqa: E402
from introdl.vision.classify import LectureCNN  # noqa: E402

VARIANTS = [  # (batch, channels_last, bf16, compile)
    (64, False, False, False), (128, False, False, False), (256, False, False, False),
    (128, True, False, False), (128, False, True, False), (128, True, True, False),
    (256, True, True, False), (128, False, False, True), (128, True, True, True),
]


def images_per_second(batch: int, channels_last: bool, bf16: bool, compiled: bool,
                      images: int) -> float:
    torch.manual_seed(0)
    model = LectureCNN(hidden=128)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    net = torch.compile(model) if compiled else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))
    steps = max(8, images // batch)
    for i in range(steps + 3):
        if i == 3:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            loss = nn.functional.cross_entropy(net(x).float(), y)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--images", type=int, default=16384, help="images timed per variant")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(machine_description())
    print(f"bf16 native on this CPU: {bf16_is_native(torch.device('cpu'))}")
    print("| batch | channels_last | bf16 autocast | torch.compile | images/s | s per epoch |")
    print("|---:|---|---|---|---:|---:|")
    for batch, cl, bf16, comp in VARIANTS:
        ips = images_per_second(batch, cl, bf16, comp, args.images)
        print(f"| {batch} | {cl} | {bf16} | {comp} | {ips:,.0f} | {55_000 / ips:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
