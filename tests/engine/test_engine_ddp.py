"""Data parallelism: two gloo processes under torchrun end where one process does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from engine_ddp_script import CFG, N
from engine_tiny import data, model
from torch import nn

from introdl.engine import fit

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [str(HERE), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           str(HERE / "engine_ddp_script.py"), str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]

    w0 = torch.load(out / "weights-rank0.pt", weights_only=True)
    w1 = torch.load(out / "weights-rank1.pt", weights_only=True)
    single = model(dropout=0.0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fit(single, nn.CrossEntropyLoss(), data(n=N), CFG, progress=False)
    finally:
        torch.set_num_threads(threads)
    for k, v in single.state_dict().items():
        assert torch.equal(w0[k], w1[k]), k  # DDP keeps the replicas identical
        assert torch.allclose(w0[k], v, rtol=1e-5, atol=1e-6), (k, (w0[k] - v).abs().max())
    assert not torch.allclose(w0["0.weight"], model(dropout=0.0).state_dict()["0.weight"])

    # Only rank 0 wrote the run's outputs and printed the claims table.
    assert json.loads((out / "metrics.json").read_text())["world"] == 2.0
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in lines] == [1, 2, 3]
    assert (out / "checkpoints" / "last.pt").exists()
    assert (p.stdout + p.stderr).count("claim vs measured") == 1
