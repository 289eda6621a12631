"""Every experiment starts from the same torch/NumPy/Python state and leaves none behind."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from rich.console import Console

from introdl import experiment as registry
from introdl.experiment import Claim, Fact, experiment
from introdl.run import Run
from introdl.runner import run_experiment
from introdl.runtime import DEFAULT_THREADS, fresh_state


@dataclass
class MeddlerConfig:
    threads: int = 1  # what the meddling experiment sets torch's threads to


@pytest.fixture
def meddler():
    registry.load_all()
    before = dict(registry._REGISTRY)
    seen: list[dict] = []

    @experiment(name="meddler", lecture=0, title="changes global state",
                claims=[Claim("ratio below one", metric="ratio", expected=1.0, compare="<")],
                facts=[Fact("a number true by construction", metric="ratio")])
    def meddler_exp(cfg: MeddlerConfig, run: Run) -> dict[str, float]:
        seen.append({"threads": torch.get_num_threads(), "dtype": torch.get_default_dtype(),
                     "draw": torch.rand(1).item(), "np": np.random.rand()})  # noqa: NPY002
        torch.set_num_threads(cfg.threads)
        torch.set_default_dtype(torch.float64)
        torch.manual_seed(12345)
        return {"ratio": 0.5}

    yield registry._REGISTRY["meddler"], seen
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)


def test_an_experiment_cannot_change_the_next_ones_threads_dtype_or_rng(meddler, tmp_path):
    exp, seen = meddler
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    rng = torch.get_rng_state()
    for i in range(2):
        run_experiment(exp, out=tmp_path / f"r{i}", console=Console(quiet=True),
                       progress=False)
    # the second run started exactly like the first, despite the first's meddling
    assert seen[0] == seen[1]
    assert seen[0]["threads"] == DEFAULT_THREADS and seen[0]["dtype"] == torch.float32
    # and the caller's state is restored afterwards
    assert torch.get_num_threads() == threads and torch.get_default_dtype() == dtype
    assert torch.equal(torch.get_rng_state(), rng)


def test_threads_come_from_introdl_threads(monkeypatch):
    monkeypatch.setenv("INTRODL_THREADS", "1")
    before = torch.get_num_threads()
    with fresh_state(0):
        assert torch.get_num_threads() == 1
        a = (random.random(), torch.rand(1).item())
    with fresh_state(0):
        assert (random.random(), torch.rand(1).item()) == a
    assert torch.get_num_threads() == before


def test_facts_are_reported_without_a_verdict(meddler, tmp_path):
    import json

    exp, _ = meddler
    r = run_experiment(exp, out=tmp_path / "r", console=Console(quiet=True), progress=False)
    res = json.loads((tmp_path / "r" / "result.json").read_text())
    assert res["facts"] == [{"text": "a number true by construction", "metric": "ratio",
                             "value": 0.5}]
    assert res["counts"] == {"pass": 1, "fail": 0, "not checked": 0} == r.counts()
    assert "Stated facts" in (tmp_path / "r" / "result.md").read_text()
