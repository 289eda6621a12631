"""introdl.nn.MaxPool2d gives nn.MaxPool2d's values and gradients, bit for bit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from introdl.nn.lecture_cnn import LectureCNN
from introdl.nn.pooling import MaxPool2d

CONFIGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=2, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=2),
]


def _with_ties(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.relu(torch.randn(*shape, generator=g))  # zeros: ties after a ReLU
    x[:, :, :4] = 0.7  # a flat positive region: ties that carry gradient
    return x


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("shape", [(4, 8, 13, 13), (2, 3, 30, 31)])
def test_values_and_gradients_equal_torchs(cfg, shape):
    x = _with_ties(shape)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = nn.MaxPool2d(**cfg)(xa), MaxPool2d(**cfg)(xb)
    assert yb.grad_fn.name().endswith("_ChannelsLastForwardBackward")  # the fast path ran
    assert torch.equal(ya, yb) and yb.is_contiguous()
    grad = torch.randn(ya.shape, generator=torch.Generator().manual_seed(1))
    ya.backward(grad)
    yb.backward(grad)
    assert torch.equal(xa.grad, xb.grad)


def test_gradcheck_in_double():
    x = torch.rand(2, 3, 7, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(MaxPool2d(2), (x,))


@pytest.mark.parametrize("make", [
    lambda: torch.rand(2, 4, 8, 8).contiguous(memory_format=torch.channels_last),
    lambda: torch.rand(4, 8, 8),
    lambda: torch.rand(2, 4, 8, 8)[:, :, ::2],  # not contiguous
])
def test_other_inputs_take_torchs_path(make, monkeypatch):
    from introdl.nn import pooling

    def refuse(*args):
        raise AssertionError("fast path taken")

    monkeypatch.setattr(pooling._ChannelsLastForward, "apply", refuse)
    x = make()
    assert torch.equal(MaxPool2d(2)(x), nn.MaxPool2d(2)(x))
    out, idx = MaxPool2d(2, return_indices=True)(torch.rand(1, 2, 4, 4))
    assert idx.dtype == torch.int64 and out.shape == (1, 2, 2, 2)


def test_the_lecture_cnn_trains_to_the_same_weights_as_with_torchs_pooling():
    def train(swap: bool) -> list[torch.Tensor]:
        torch.manual_seed(0)
        net = LectureCNN(3, 32, hidden=16)
        if swap:
            for i, m in enumerate(net.features):
                if isinstance(m, MaxPool2d):
                    net.features[i] = nn.MaxPool2d(2)
        assert sum(type(m) is MaxPool2d for m in net.modules()) == (0 if swap else 2)
        opt = torch.optim.Adam(net.parameters(), 1e-2)
        g = torch.Generator().manual_seed(0)
        for _ in range(5):
            x = torch.rand(8, 3, 32, 32, generator=g)
            x[:, :, :10] = 0.0  # a flat background, as digits have
            y = torch.randint(0, 10, (8,), generator=g)
            opt.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        return [p.detach() for p in net.parameters()]

    assert all(torch.equal(a, b) for a, b in zip(train(False), train(True), strict=True))


@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode])
def test_inference_gives_torchs_values(context):
    x = _with_ties((2, 4, 9, 9))
    with context():
        assert torch.equal(MaxPool2d(2)(x), nn.MaxPool2d(2)(x))
