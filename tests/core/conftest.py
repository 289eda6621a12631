"""A toy experiment registered only while a test needs it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from introdl import experiment as registry
from introdl.experiment import Claim, experiment
from introdl.run import Run


@dataclass
class ToyConfig:
    value: float = 2.0  # what the toy 'measures'
    fail: bool = False  # raise inside the experiment


@pytest.fixture
def toy():
    registry.load_all()
    before = dict(registry._REGISTRY)

    @experiment(name="toy", lecture=0, title="toy experiment",
                claims=[Claim("value is about two", metric="value", expected=2.0, tol=0.1),
                        Claim("shown only")],
                quick={"value": 2.05})
    def toy_exp(cfg: ToyConfig, run: Run) -> dict[str, float]:
        if cfg.fail:
            raise RuntimeError("toy failure")
        run.log(epoch=1, loss=1.0)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, cfg.value])
        run.save_figure(fig, "line.png")
        return {"value": cfg.value}

    yield registry._REGISTRY["toy"]
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)
