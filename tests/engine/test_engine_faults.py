"""``fit`` under faults: bad TrainConfig values, unreadable checkpoints, log/checkpoint order."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from engine_tiny import CFG, data, model
from torch import nn

from introdl.engine import checkpoint, fit
from introdl.errors import CheckpointUnreadable, UsageError


@pytest.mark.parametrize("change, fragment", [
    ({"epochs": 0}, "epochs=0 is out of range"),
    ({"batch_size": 0}, "batch_size=0 is out of range"),
    ({"lr": float("nan")}, "lr=nan is out of range"),
    ({"eval_batch_size": 0}, "eval_batch_size=0"),
    ({"optimizer": "adamw"}, "unknown optimizer 'adamw'"),
    ({"schedule": "linear"}, "unknown schedule 'linear'"),
    ({"clip_grad_norm": 0.0}, "clip_grad_norm=0.0 is out of range"),
    ({"checkpoint_every": -1}, "checkpoint_every=-1 is out of range"),
])
def test_bad_train_config_is_refused_before_any_step(change, fragment):
    m = model()
    before = {k: t.clone() for k, t in m.state_dict().items()}
    with pytest.raises(UsageError, match=fragment):
        fit(m, nn.CrossEntropyLoss(), data(), dataclasses.replace(CFG, **change), progress=False)
    assert all(torch.equal(before[k], t) for k, t in m.state_dict().items())


def test_a_checkpoint_of_another_model_is_one_line(tmp_path):
    fit(model(), nn.CrossEntropyLoss(), data(), CFG, checkpoint_dir=tmp_path, progress=False)
    wider = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))
    with pytest.raises(CheckpointUnreadable, match="does not fit this training run") as e:
        fit(wider, nn.CrossEntropyLoss(), data(), CFG, checkpoint_dir=tmp_path, resume=True,
            progress=False)
    assert "\n" not in str(e.value) and str(tmp_path / "last.pt") in str(e.value)


class Opaque:
    """Not on the weights-only unpickler's allow-list."""


def test_checkpoint_load_never_passes_on_torchs_weights_only_advice(tmp_path):
    p = tmp_path / "x.pt"
    torch.save({"model": Opaque()}, p)
    with pytest.raises(CheckpointUnreadable) as e:
        checkpoint.load(p)
    msg = str(e.value)
    assert "weights_only" not in msg and "\n" not in msg and str(p) in msg


class Killed(BaseException):
    pass


def test_epoch_is_logged_only_after_its_checkpoint(tmp_path, monkeypatch):
    real_save, logged = checkpoint.save, []

    def save_then_die(path, state):
        if state["epoch"] == 2 and state["batch"] == 0:
            raise Killed  # dies writing epoch 2's checkpoint
        return real_save(path, state)

    monkeypatch.setattr(checkpoint, "save", save_then_die)
    with pytest.raises(Killed):
        fit(model(), nn.CrossEntropyLoss(), data(), CFG, checkpoint_dir=tmp_path,
            log=lambda **r: logged.append(r["epoch"]), progress=False)
    assert logged == [1]
    monkeypatch.setattr(checkpoint, "save", real_save)
    fit(model(), nn.CrossEntropyLoss(), data(), CFG, checkpoint_dir=tmp_path, resume=True,
        log=lambda **r: logged.append(r["epoch"]), progress=False)
    assert logged == [1, 2, 3]
