"""LastGood: saves finite weights on schedule; a NaN loss restores them and stops in one line."""

import pytest
import torch
from torch import nn

from introdl.engine import checkpoint
from introdl.engine.last_good import LastGood
from introdl.errors import TrainingDiverged


def test_saves_on_schedule_and_restores_on_nan(tmp_path):
    net = nn.Linear(2, 1)
    path = tmp_path / "g.pt"
    guard = LastGood(net, path, every=2, steps=5, desc="toy", hint="lower --set lr")
    ok = {"g": torch.tensor(1.0)}
    assert checkpoint.load(path)["step"] == 0
    for step in range(4):
        guard.check(step, ok)
        with torch.no_grad():
            net.weight += 1.0
        guard.after_step(step)
    assert guard.good == 2 and checkpoint.load(path)["step"] == 2  # step 4 awaits its check
    guard.check(4, ok)
    assert guard.good == 4 and checkpoint.load(path)["step"] == 4
    saved = net.weight.detach().clone()
    with torch.no_grad():
        net.weight.fill_(float("nan"))  # broken weights are never saved
    guard.after_step(4)
    assert guard.good == 4
    with pytest.raises(TrainingDiverged, match=r"^toy: the GAN diverged \(d loss became NaN/inf "
                       r"at step 5\); kept the last good translator \(step 4\) in .*; lower"):
        guard.check(5, {"g": torch.tensor(1.0), "d": torch.tensor(float("inf"))})
    assert torch.equal(net.weight, saved)


def test_finite_weights_whose_losses_overflow_are_not_kept(tmp_path):
    net = nn.Linear(2, 1)
    before = net.weight.detach().clone()
    guard = LastGood(net, tmp_path / "g.pt", every=1, steps=5, desc="toy", hint="")
    guard.check(0, {"g": torch.tensor(1.0)})
    with torch.no_grad():
        net.weight.fill_(1e30)  # finite, but its loss overflows
    guard.after_step(0)
    with pytest.raises(TrainingDiverged, match=r"step 1\); kept the last good translator "
                       r"\(step 0\)"):
        guard.check(1, {"g": (net.weight ** 2).sum()})
    assert torch.equal(net.weight, before)
    assert checkpoint.load(tmp_path / "g.pt")["step"] == 0


def test_the_last_steps_weights_are_saved_at_once(tmp_path):
    net = nn.Linear(2, 1)
    guard = LastGood(net, tmp_path / "g.pt", every=10, steps=3, desc="toy", hint="")
    for step in range(3):
        guard.check(step, {"g": torch.tensor(1.0)})
        guard.after_step(step)
    assert guard.good == 3 and checkpoint.load(tmp_path / "g.pt")["step"] == 3


def test_finite_losses_pass(tmp_path):
    net = nn.Linear(2, 1)
    guard = LastGood(net, tmp_path / "g.pt", every=10, steps=10, desc="toy", hint="")
    guard.check(0, {"g": torch.tensor(0.5), "d": torch.tensor([0.1, 0.2])})
    assert guard.good == 0
