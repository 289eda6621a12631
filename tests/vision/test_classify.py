"""The lecture's CNN: shapes, a training step that lowers the loss, saliency, the experiment."""

from __future__ import annotations

import json

import torch
from rich.console import Console
from torch import nn

from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.vision.classify import LectureCNN, parameter_count, saliency


def test_cnn_shapes_follow_conv_pool_arithmetic():
    model = LectureCNN(hidden=0)
    x = torch.randn(5, 1, 28, 28)
    maps = model.feature_maps(x)
    assert [m.shape for m in maps] == [(5, 32, 26, 26), (5, 64, 11, 11)]
    assert model(x).shape == (5, 10)
    # conv1 + conv2 + dense straight to the 10 classes (the slide's head)
    assert parameter_count(model) == (9 * 32 + 32) + (32 * 9 * 64 + 64) + (64 * 5 * 5 * 10 + 10)


def test_cnn_handles_other_sizes_channels_and_classes():
    model = LectureCNN(in_channels=3, image_size=32, classes=4, hidden=16)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 4)


def test_a_few_adam_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = LectureCNN(channels=(8, 16), hidden=32)
    x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    first = loss_fn(model(x), y).item()
    for _ in range(10):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    assert loss_fn(model(x), y).item() < 0.95 * first


def test_saliency_is_the_gradient_of_the_chosen_score():
    torch.manual_seed(0)
    model = LectureCNN(channels=(4, 8), hidden=0)
    x = torch.randn(3, 1, 28, 28)
    target = torch.tensor([1, 2, 3])
    sal = saliency(model, x, target)
    assert sal.shape == (3, 28, 28)
    assert all(p.grad is None for p in model.parameters())  # saliency leaves no parameter grads
    xi = x[1:2].clone().requires_grad_(True)
    model(xi)[0, 2].backward()
    torch.testing.assert_close(sal[1], xi.grad[0, 0].abs())


def test_quick_run_compares_cnn_and_mlp_and_writes_its_figures(tmp_path, monkeypatch):
    # no network in tests: MNIST is unavailable, so that part is reported skipped
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    r = run_experiment(get("cnn-classifier"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["train_size=300", "test_size=200", "val_size=50", "also_mnist=true"],
                       console=Console(quiet=True), progress=False)
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert 0.0 <= m["test_acc"] <= 1.0 and 0.0 <= m["mlp_test_acc"] <= 1.0
    assert 0.0 <= m["test_acc_flip_tta"] <= 1.0 and m["cnn_samples_per_second"] > 0
    assert abs(m["mlp_params"] - m["cnn_params"]) / m["cnn_params"] < 0.01  # matched sizes
    assert m["mnist_available"] == 0.0 and "mnist_test_acc" not in m  # skipped, not failed
    assert r.metrics["cnn_minus_mlp_acc"] == m["test_acc"] - m["mlp_test_acc"]
    for name in ("filters.png", "feature_maps.png", "confusion.png", "saliency.png",
                 "val_accuracy.png"):
        assert (tmp_path / "r" / name).stat().st_size > 5_000
