"""Data parallelism through PyTorch's own DistributedDataParallel, launched by torchrun.

No communication is written here: torchrun sets RANK/WORLD_SIZE/MASTER_ADDR, this
module initialises the process group from them and wraps the model in DDP; the
gradient all-reduce is DDP's. Each process takes ``batch[rank::world]`` of every
global batch (see ``fit``), so K processes with global batch B follow the same
trajectory as one process with batch B::

    torchrun --nproc_per_node 2 -m introdl.cli run NAME --device cpu
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn


def rank_world() -> tuple[int, int]:
    """(rank, world size); (0, 1) when not running distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_from_env(device: torch.device | None = None) -> tuple[int, int]:
    """Initialise the default process group from torchrun's environment, if launched by it.

    Uses NCCL for a CUDA ``device`` (and pins this process to GPU ``LOCAL_RANK``),
    gloo otherwise. Without torchrun's variables it does nothing and returns (0, 1).
    """
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and not dist.is_initialized():
        cuda = device is not None and device.type == "cuda"
        if cuda:
            torch.cuda.set_device(local_device(device))
        dist.init_process_group("nccl" if cuda else "gloo")
    return rank_world()


def local_device(device: torch.device) -> torch.device:
    """This process's GPU under torchrun (``cuda:LOCAL_RANK``); other devices unchanged."""
    if device.type == "cuda" and "LOCAL_RANK" in os.environ:
        return torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over processes (identity when not distributed)."""
    if rank_world()[1] > 1:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def barrier() -> None:
    """Wait for every process (no-op when not distributed)."""
    if rank_world()[1] > 1:
        dist.barrier()


def any_across(flag: bool, device: torch.device | str = "cpu") -> bool:
    """True when ``flag`` is true in any process, so all processes take the same branch.

    Ctrl-C or a NaN may reach one process a step before another; acting on the local
    flag alone would leave the others waiting in DDP's all-reduce.
    """
    if rank_world()[1] == 1:
        return bool(flag)
    return bool(all_sum(torch.tensor(float(flag), device=device)) > 0)
