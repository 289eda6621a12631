"""Data parallelism through PyTorch's own DistributedDataParallel, launched by torchrun.

No communication is written here: torchrun sets RANK/WORLD_SIZE/MASTER_ADDR, this
module initialises the process group from them and wraps the model in DDP.
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


def init_from_env(backend: str | None = None) -> tuple[int, int]:
    """Initialise the default process group from torchrun's environment variables."""
    if "RANK" in os.environ and not dist.is_initialized():
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        dist.init_process_group(backend)
    return rank_world()


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over processes (identity when not distributed)."""
    if rank_world()[1] > 1:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t
