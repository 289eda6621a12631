"""The fast-recipe options of ``fit``: one-cycle (per step), bf16 autocast, channels_last."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from engine_tiny import CFG, data, model, same_weights, train
from torch import nn
from torch.utils.data import TensorDataset

from introdl.engine import TrainConfig, fit
from introdl.engine.checkpoint import load
from introdl.engine.precision import autocast_dtype
from introdl.errors import UsageError


class Boom(Exception):
    pass


class RaiseAt(nn.Module):
    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, out, y):
        self.calls += 1
        if self.calls == self.at:
            raise Boom
        return nn.functional.cross_entropy(out, y)


class LRRecorder(torch.optim.SGD):
    lrs: list[float]

    def step(self, closure=None):
        self.lrs.append(self.param_groups[0]["lr"])
        return super().step(closure)


def test_onecycle_steps_every_batch_warming_up_then_annealing():
    m = model()
    opt = LRRecorder(m.parameters(), lr=0.1, momentum=0.9)
    opt.lrs = []
    fit(m, nn.CrossEntropyLoss(), data(n=96),
        TrainConfig(epochs=4, batch_size=8, lr=0.1, schedule="onecycle"), optimizer=opt,
        progress=False)
    lrs = opt.lrs
    assert len(lrs) == 48 and len(set(lrs)) == 48  # a new rate at every one of the 48 steps
    peak = max(range(48), key=lrs.__getitem__)
    assert 0.25 * 48 <= peak <= 0.35 * 48  # warm-up over the first 30%
    assert lrs[peak] == pytest.approx(0.1, rel=1e-2)
    assert lrs[0] == pytest.approx(0.1 / 25)
    assert lrs[-1] < 0.1 / 1000  # annealed almost to zero at the last step
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1], strict=True))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:], strict=False))


def test_onecycle_mid_epoch_resume_equals_uninterrupted_run(tmp_path):
    cfg = dataclasses.replace(CFG, schedule="onecycle", checkpoint_every=5)
    full = train(cfg=cfg)
    with pytest.raises(Boom):  # dies at step 8 of 12 in epoch 1; last checkpoint at step 5
        train(tmp_path, loss_fn=RaiseAt(8), cfg=cfg)
    assert load(tmp_path / "last.pt")["batch"] == 5
    resumed = train(tmp_path, resume=True, cfg=cfg, model_seed=7)
    assert same_weights(resumed, full)


def test_onecycle_works_with_an_optimizer_without_momentum():
    h = fit(model(), nn.CrossEntropyLoss(), data(n=32),
            TrainConfig(epochs=2, batch_size=8, optimizer="adagrad", lr=0.1,
                        schedule="onecycle"), progress=False)
    assert h.steps == 8


def test_unknown_precision_is_a_usage_error_naming_the_choices():
    with pytest.raises(UsageError, match="unknown precision 'fp16'.*fp32, bf16, auto"):
        fit(model(), nn.CrossEntropyLoss(), data(), TrainConfig(precision="fp16"),
            progress=False)


def test_autocast_dtype():
    cpu = torch.device("cpu")
    assert autocast_dtype("fp32", cpu) is None
    assert autocast_dtype("bf16", cpu) is torch.bfloat16
    assert autocast_dtype("auto", cpu) in (None, torch.bfloat16)


def conv_data(n: int = 64) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 8, 8, generator=g)
    return TensorDataset(x, (x.mean((1, 2, 3)) > 0).long())


def conv_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 2))


def fit_conv(**kw) -> tuple[nn.Module, list[float]]:
    m = conv_model()
    h = fit(m, nn.CrossEntropyLoss(), conv_data(),
            TrainConfig(epochs=3, batch_size=16, lr=1e-2, **kw), progress=False)
    return m, h.train_loss


def test_bf16_autocast_trains_close_to_fp32():
    m32, loss32 = fit_conv()
    m16, loss16 = fit_conv(precision="bf16")
    assert loss16 == pytest.approx(loss32, rel=0.05)  # bf16 keeps ~3 significant digits
    assert not same_weights(m32, m16, atol=1e-7)  # and it did compute in bf16
    assert all(p.dtype == torch.float32 for p in m16.parameters())  # weights stay fp32


def test_channels_last_gives_the_same_training_as_nchw():
    m_nchw, loss_nchw = fit_conv()
    m_nhwc, loss_nhwc = fit_conv(channels_last=True)
    assert m_nhwc[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert loss_nhwc == pytest.approx(loss_nchw, rel=1e-4)
    assert same_weights(m_nchw, m_nhwc, atol=1e-5)
