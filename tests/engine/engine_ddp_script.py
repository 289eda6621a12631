"""Launched by test_engine_ddp under torchrun: ``introdl run`` of a toy experiment that fits.

Usage: python -m torch.distributed.run --nproc_per_node 2 ... engine_ddp_script.py OUT_DIR
Each process saves its final weights as OUT_DIR/weights-rank{R}.pt.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import torch
from engine_tiny import data, model
from torch import nn

from introdl import experiment as registry
from introdl.cli import main
from introdl.engine import TrainConfig, accuracy, fit
from introdl.engine import checkpoint as ckpt
from introdl.engine.distributed import rank_world
from introdl.experiment import Claim, experiment
from introdl.run import Run

# Global batch 16 over 101 examples: the last batch of 5 splits 3/2 across 2 processes.
CFG = TrainConfig(epochs=3, batch_size=16, optimizer="momentum", lr=0.05, seed=1)
N = 101


@dataclass
class ToyConfig:
    epochs: int = 3  # passes over the toy data


@experiment(name="engine-ddp-toy", lecture=0, title="fit under torchrun",
            claims=[Claim("it trains", metric="train_loss", expected=2.0, compare="<")])
def ddp_toy(cfg: ToyConfig, run: Run) -> dict[str, float]:
    m = model(dropout=0.0)
    h = fit(m, nn.CrossEntropyLoss(), data(n=N), CFG, val_set=data(n=32, seed=3),
            device=run.device, metrics={"acc": accuracy}, checkpoint_dir=run.checkpoint_dir,
            log=run.log, progress=run.progress)
    ckpt.save(run.dir / f"weights-rank{rank_world()[0]}.pt", m.state_dict())
    return {"train_loss": h.train_loss[-1], "world": float(rank_world()[1])}


if __name__ == "__main__":
    torch.set_num_threads(1)
    # Only this toy experiment: the test is about the engine, not the other lectures.
    registry.load_all = lambda: dict(registry._REGISTRY)
    sys.exit(main(["run", "engine-ddp-toy", "--out", sys.argv[1], "--device", "cpu", "--force"]))
