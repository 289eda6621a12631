"""Ctrl-C for real: SIGINT a subprocess mid-fit, resume here, compare with an unbroken run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from engine_tiny import CFG, same_weights, train
from torch import nn

from introdl.engine.checkpoint import load

HERE = Path(__file__).parent


def test_sigint_saves_then_resume_equals_uninterrupted_run(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [str(HERE), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen([sys.executable, str(HERE / "engine_sigint_child.py"), str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    steps = 0
    while steps < 5 and time.monotonic() < deadline:  # let it train 5 steps, then Ctrl-C
        line = child.stdout.readline()
        if not line:
            break
        steps += line.strip() == "step"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert out.strip().endswith("interrupted")
    s = load(tmp_path / "last.pt")  # written atomically on Ctrl-C (weights_only load)
    total = CFG.epochs * 12
    assert 5 <= s["history"]["steps"] < total  # it stopped early, after a whole step
    assert not list(tmp_path.glob(".*.tmp"))  # no temp file left behind

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the child, so the arithmetic is the same
    try:
        torch.manual_seed(99)  # resume must restore every RNG, not rely on this one
        resumed = train(tmp_path, resume=True, model_seed=5)
        full = train()
    finally:
        torch.set_num_threads(threads)
    assert same_weights(resumed, full)


class TermAt(nn.CrossEntropyLoss):
    """Cross-entropy that sends this process SIGTERM during call ``at``."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), signal.SIGTERM)
        return super().forward(out, y)


def test_sigterm_finishes_the_step_saves_and_resumes_exactly(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    try:
        train(tmp_path, loss_fn=TermAt(5))
        raise AssertionError("fit should stop on SIGTERM")
    except KeyboardInterrupt:
        pass
    s = load(tmp_path / "last.pt")
    assert (s["epoch"], s["batch"], s["history"]["steps"]) == (0, 5, 5)  # step 5 completed
    assert signal.getsignal(signal.SIGTERM) == before  # fit put the old handler back
    torch.manual_seed(3)
    assert same_weights(train(tmp_path, resume=True, model_seed=4), train())
