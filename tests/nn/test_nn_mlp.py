"""The shared dense network: structure, shapes, dropout in train vs eval, bad arguments."""

import pytest
import torch
from torch import nn

from introdl.nn.mlp import MLP


def test_output_shape_and_layers_follow_the_lecture_stack():
    net = MLP(784, [256, 128], 10)
    out = net(torch.rand(5, 28, 28))  # images are flattened inside
    assert out.shape == (5, 10)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    n_weights = sum(p.numel() for p in net.parameters())
    assert n_weights == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10


def test_no_hidden_layers_is_softmax_regression():
    net = MLP(64, [], 10)
    assert [type(m) for m in net] == [nn.Flatten, nn.Linear]
    x = torch.rand(3, 8, 8)
    torch.testing.assert_close(net(x), x.reshape(3, 64) @ net[1].weight.T + net[1].bias)


def test_dropout_is_inactive_in_eval_mode():
    torch.manual_seed(0)
    drop = MLP(20, [32, 32], 4, dropout=0.5)
    plain = MLP(20, [32, 32], 4)
    for a, b in zip(plain.parameters(), drop.parameters(), strict=True):
        a.data.copy_(b.data)
    x = torch.randn(8, 20)
    drop.eval()
    torch.testing.assert_close(drop(x), plain(x))
    torch.testing.assert_close(drop(x), drop(x))


def test_dropout_is_active_in_train_mode_and_unbiased():
    torch.manual_seed(0)
    net = MLP(10, [64], 3, dropout=0.5)
    x = torch.randn(4, 10)
    net.train()
    a, b = net(x), net(x)
    assert not torch.allclose(a, b)  # a fresh mask each pass
    hidden = net[:3](x)  # Flatten -> Linear -> ReLU
    dropped = net[3](hidden)
    zero = (dropped == 0) & (hidden > 0)
    assert 0.35 < zero.float().sum() / (hidden > 0).sum() < 0.65  # about p of the live units
    # Survivors are scaled by 1/(1-p), so the mean output over masks equals the eval output.
    with torch.no_grad():
        mean = torch.stack([net(x) for _ in range(4000)]).mean(0)
        net.eval()
        torch.testing.assert_close(mean, net(x), atol=0.05, rtol=0.05)


def test_gradients_reach_every_layer():
    net = MLP(12, [16, 8], 2, activation="tanh")
    nn.CrossEntropyLoss()(net(torch.randn(6, 12)), torch.tensor([0, 1, 0, 1, 1, 0])).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


@pytest.mark.parametrize("kw", [{"activation": "gelu"}, {"dropout": 1.0}, {"dropout": -0.1}])
def test_bad_arguments_are_rejected(kw):
    with pytest.raises(ValueError):
        MLP(4, [4], 2, **kw)
