"""Data-parallel scaling of ``introdl run cnn-classifier`` under torchrun (PyTorch DDP).

For each process count N in ``--procs`` this launches, one after the other::

    torchrun --standalone --nproc_per_node N -m introdl.cli run cnn-classifier \\
        --device DEVICE --set batch_size=PER_DEVICE*N ... --out OUT/nN --force

(gloo with one thread per process on the CPU, NCCL with one GPU per process on CUDA),
so every process always holds ``--per-device-batch`` examples per step. It reads each
run's ``result.json``: the CNN's training throughput (examples per second of its
training steps, all processes together — ``fit``'s own count, validation excluded),
its test accuracy and the run's wall time. Scaling efficiency from 1 to N processes
is ``throughput(N) / (N * throughput(1))``.

    python benchmarks/ddp_scaling.py                              # CPU, 1 and 2 processes
    python benchmarks/ddp_scaling.py --device cuda --procs 1 2 4 8
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from introdl.runtime import machine_description


def launch(n: int, args: argparse.Namespace) -> dict[str, float]:
    out = Path(args.out) / f"n{n}"
    sets = [f"batch_size={args.per_device_batch * n}", *args.set]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={n}", "-m", "introdl.cli", "run", "cnn-classifier",
           "--device", args.device, "--out", str(out), "--force"]
    for kv in sets:
        cmd += ["--set", kv]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               INTRODL_THREADS=str(args.threads))
    print("$", " ".join(cmd[2:]).replace("torch.distributed.run", "torchrun"), flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    wall = time.perf_counter() - t0
    if done.returncode == 1 and (out / "metrics.json").exists():
        print("  (the run finished; some of its claims failed — see its result.md)")
    elif done.returncode != 0:
        print(done.stdout[-3000:])
        raise SystemExit(f"torchrun with {n} process(es) exited {done.returncode}")
    m = json.loads((out / "metrics.json").read_text())
    return {"procs": n, "batch": args.per_device_batch * n,
            "samples_per_s": m["cnn_samples_per_second"], "test_acc": m["test_acc"],
            "cnn_s": m["cnn_train_seconds"], "wall_s": wall}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2], help="process counts")
    p.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL, a GPU each)")
    p.add_argument("--per-device-batch", type=int, default=128, help="examples per process "
                   "per step (the global batch grows with the process count)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    p.add_argument("--set", nargs="*", default=[], help="more --set KEY=VALUE for the run")
    p.add_argument("--out", default="runs/ddp-scaling", help="run folders go here")
    args = p.parse_args()
    print(machine_description())
    rows = [launch(n, args) for n in args.procs]
    base = rows[0]["samples_per_s"] / rows[0]["procs"]
    print("\n| processes | global batch | CNN train examples/s | efficiency | test accuracy "
          "| CNN fit s | run wall s |\n|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        eff = r["samples_per_s"] / (r["procs"] * base)
        print(f"| {r['procs']} | {r['batch']} | {r['samples_per_s']:,.0f} | {eff:.2f} | "
              f"{r['test_acc']:.4f} | {r['cnn_s']:.0f} | {r['wall_s']:.0f} |")


if __name__ == "__main__":
    main()
