"""The NumPy from-scratch pieces agree with PyTorch (float64) and with their own formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from introdl.scratch import (
    SGD,
    BinaryCrossEntropy,
    Dense,
    MeanSquaredError,
    ReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
    mlp,
    to_torch,
)

RTOL = 1e-6


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_dense_forward_and_backward_match_nn_linear(rng):
    layer = Dense(5, 3, rng)
    x = rng.normal(size=(4, 5))
    g = rng.normal(size=(4, 3))  # an arbitrary upstream gradient dL/dz
    lin = nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer.W.T))
        lin.bias.copy_(torch.from_numpy(layer.b))
    xt = torch.tensor(x, requires_grad=True)
    zt = lin(xt)
    zt.backward(torch.from_numpy(g))
    z = layer.forward(x)
    dx = layer.backward(g)
    assert rel_err(z, zt.detach().numpy()) < RTOL
    assert rel_err(dx, xt.grad.numpy()) < RTOL
    assert rel_err(layer.dW, lin.weight.grad.numpy().T) < RTOL
    assert rel_err(layer.db, lin.bias.grad.numpy()) < RTOL


@pytest.mark.parametrize("ours, theirs", [(Sigmoid, torch.sigmoid), (Tanh, torch.tanh),
                                          (ReLU, torch.relu)])
def test_activation_forward_and_backward_match_torch(rng, ours, theirs):
    x = rng.normal(size=(6, 4)) * 3
    g = rng.normal(size=(6, 4))
    act = ours()
    xt = torch.tensor(x, requires_grad=True)
    at = theirs(xt)
    at.backward(torch.from_numpy(g))
    assert rel_err(act.forward(x), at.detach().numpy()) < RTOL
    assert rel_err(act.backward(g), xt.grad.numpy()) < RTOL


def _bce_formula(z, y):  # the docstring: -1/N sum [y log s(z) + (1-y) log(1-s(z))]
    s = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))


def _ce_formula(z, y):  # the docstring: -1/N sum log softmax(z_i)[y_i]
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def _mse_formula(yhat, y):  # the docstring: 1/(N D) sum ||yhat_i - y_i||^2
    return ((yhat - y) ** 2).sum() / yhat.size


def _cases(rng):
    return [
        (BinaryCrossEntropy(), rng.normal(size=8), rng.integers(0, 2, 8).astype(float),
         nn.BCEWithLogitsLoss(), _bce_formula),
        (SoftmaxCrossEntropy(), rng.normal(size=(8, 5)), rng.integers(0, 5, 8),
         nn.CrossEntropyLoss(), _ce_formula),
        (MeanSquaredError(), rng.normal(size=(8, 3)), rng.normal(size=(8, 3)),
         nn.MSELoss(), _mse_formula),
    ]


@pytest.mark.parametrize("i", range(3), ids=["bce", "softmax_ce", "mse"])
def test_loss_matches_its_docstring_formula_and_torch(rng, i):
    loss, out, target, torch_loss, formula = _cases(rng)[i]
    value = loss(out, target)
    assert value == pytest.approx(formula(out, target), rel=1e-12)
    ot = torch.tensor(out, requires_grad=True)
    lt = torch_loss(ot, torch.from_numpy(target))
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=1e-12)
    assert rel_err(loss.backward(), ot.grad.numpy()) < RTOL


def test_bce_stays_finite_for_huge_logits():
    loss = BinaryCrossEntropy()
    value = loss(np.array([800.0, -800.0]), np.array([0.0, 1.0]))
    assert value == pytest.approx(800.0)  # log(1 + e^800) = 800 without overflow
    assert np.all(np.isfinite(loss.backward()))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_backprop_through_a_deep_net_matches_autograd(rng, activation):
    net = mlp([6, 8, 7, 4], activation, seed=1)
    tnet = to_torch(net)
    x, y = rng.normal(size=(10, 6)), rng.integers(0, 4, 10)
    loss = SoftmaxCrossEntropy()
    value = loss(net(x), y)
    net.backward(loss.backward())
    lt = nn.functional.cross_entropy(tnet(torch.from_numpy(x)), torch.from_numpy(y))
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=1e-12)
    grads = [g for _, g in net.params()]
    tgrads = [p.grad.numpy() for p in tnet.parameters()]
    for g, tg in zip(grads, tgrads, strict=True):
        assert rel_err(g, tg.T if g.ndim == 2 else tg) < RTOL


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_steps_match_torch_optim_sgd(rng, momentum):
    p0 = rng.normal(size=(3, 2))
    p, g = p0.copy(), np.zeros_like(p0)
    opt = SGD([(p, g)], lr=0.1, momentum=momentum)
    pt = torch.tensor(p0, requires_grad=True)
    topt = torch.optim.SGD([pt], lr=0.1, momentum=momentum)
    for _ in range(4):  # loss = sum(p^3) so the gradient changes every step
        g[...] = 3 * p**2
        opt.step()
        topt.zero_grad()
        (pt**3).sum().backward()
        topt.step()
    assert rel_err(p, pt.detach().numpy()) < RTOL
    assert not np.allclose(p, p0)


def test_training_lowers_the_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(float)  # XOR-like: needs the hidden layer
    net = mlp([2, 16, 1], "tanh", seed=0)
    loss, opt = BinaryCrossEntropy(), SGD(net.params(), lr=0.5, momentum=0.9)
    first = loss(net(x), y)
    for _ in range(200):
        loss(net(x), y)
        net.backward(loss.backward())
        opt.step()
    assert loss(net(x), y) < 0.5 * first


def test_mlp_rejects_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation"):
        mlp([2, 2], "swish")


def test_from_scratch_experiment_measures_gradients_and_learns(tmp_path):
    from rich.console import Console

    from introdl.experiment import get
    from introdl.runner import run_experiment

    r = run_experiment(get("from-scratch"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["epochs=3", "hidden=32", "layers=1"],
                       console=Console(quiet=True), progress=False)
    assert r.metrics["max_grad_rel_err"] < 1e-9
    assert r.metrics["train_loss"] < 0.5 * r.metrics["first_epoch_loss"]
    assert r.metrics["test_acc"] > 0.8  # 3 epochs already read most digits (chance: 0.1)
    assert (tmp_path / "r" / "training_curve.png").exists()
