"""Optimisers by name and LR schedules, as ``fit`` uses them."""

from __future__ import annotations

import math

import pytest
import torch
from engine_tiny import data, model
from torch import nn

from introdl.engine import OPTIMIZERS, TrainConfig, evaluate, fit, make_optimizer
from introdl.engine.optim import make_scheduler
from introdl.errors import UsageError

# A learning rate per optimiser that suits this problem (Adadelta's is a scale on 1.0).
LR = {"sgd": 0.2, "momentum": 0.05, "adam": 0.01, "adagrad": 0.1, "rmsprop": 0.01,
      "adadelta": 1.0}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_trains_a_tiny_problem(name):
    ds = data(n=128)
    m = model(dropout=0.0)
    before = evaluate(m, nn.CrossEntropyLoss(), ds)["loss"]
    h = fit(m, nn.CrossEntropyLoss(), ds, TrainConfig(epochs=8, batch_size=16, optimizer=name,
                                                       lr=LR[name]), progress=False)
    after = evaluate(m, nn.CrossEntropyLoss(), ds)["loss"]
    assert after < 0.6 * before, (name, before, after)
    assert h.train_loss[-1] < h.train_loss[0]


def test_optimizer_names_map_to_torch_classes():
    p = [nn.Parameter(torch.zeros(2))]
    assert type(make_optimizer(p, "sgd")) is torch.optim.SGD
    assert make_optimizer(p, "sgd").param_groups[0]["momentum"] == 0
    assert make_optimizer(p, "momentum", momentum=0.8).param_groups[0]["momentum"] == 0.8
    for name, cls in [("adam", torch.optim.Adam), ("adagrad", torch.optim.Adagrad),
                      ("rmsprop", torch.optim.RMSprop), ("adadelta", torch.optim.Adadelta)]:
        assert type(make_optimizer(p, name.upper())) is cls


def test_unknown_optimizer_is_a_usage_error_naming_the_choices():
    with pytest.raises(UsageError, match="unknown optimizer 'adamw'.*adadelta"):
        fit(model(), nn.CrossEntropyLoss(), data(), TrainConfig(optimizer="adamw"),
            progress=False)


def test_unknown_schedule_is_a_usage_error():
    opt = make_optimizer([nn.Parameter(torch.zeros(1))], "sgd", lr=1.0)
    with pytest.raises(UsageError, match="unknown schedule 'linear'"):
        make_scheduler(opt, "linear", 5)


@pytest.mark.parametrize("schedule,expected", [
    (None, [0.1] * 8),
    ("cosine", [0.1 * (1 + math.cos(math.pi * e / 8)) / 2 for e in range(8)]),
    ("step", [0.1] * 4 + [0.01] * 2 + [0.001] * 2),  # x0.1 at epochs 4 and 6 of 8
    ("exponential", [0.1 * 0.9**e for e in range(8)]),
])
def test_schedule_sets_each_epochs_learning_rate(schedule, expected):
    h = fit(model(), nn.CrossEntropyLoss(), data(n=16),
            TrainConfig(epochs=8, batch_size=16, optimizer="sgd", lr=0.1, schedule=schedule),
            progress=False)
    assert h.lr == pytest.approx(expected, rel=1e-9, abs=1e-12)
