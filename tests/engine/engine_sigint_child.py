"""Run by test_engine_signals: a slow fit that the test interrupts with a real SIGINT.

Usage: python engine_sigint_child.py CHECKPOINT_DIR
Prints one line per training step (so the parent knows when to send SIGINT) and
exits with 130 after fit has saved its checkpoint and raised KeyboardInterrupt.
"""

from __future__ import annotations

import sys
import time

import torch
from engine_tiny import train
from torch import nn


class SlowLoss(nn.CrossEntropyLoss):
    """Cross-entropy that reports each step and takes a little time, like a real model."""

    def forward(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        print("step", flush=True)
        time.sleep(0.02)
        return super().forward(out, y)


if __name__ == "__main__":
    torch.set_num_threads(1)
    try:
        train(sys.argv[1], loss_fn=SlowLoss())
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    print("finished", flush=True)
