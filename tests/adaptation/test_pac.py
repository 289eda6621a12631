"""PAC: rotation labels, the augmentations, the thresholded consistency loss, a tiny run."""

import pytest
import torch
import torch.nn.functional as F
from rich.console import Console

import introdl.adaptation.experiments.pac as pac_experiment
from introdl.adaptation.mme import cosine_net, few_shot
from introdl.adaptation.pac import (
    ConsistencyLoss,
    RotationLoss,
    pretrain_rotation,
    rotate,
    rotation_batch,
    strong_augment,
    train_pac,
    weak_augment,
)
from introdl.adaptation.train import Budget, accuracy
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment


def _l_shape() -> torch.Tensor:
    """A 1x4x4 asymmetric image: a bright pixel in the top-left corner."""
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 0, 0] = 1.0
    x[0, 0, 0, 1] = 0.5
    return x


def test_rotation_label_is_number_of_quarter_turns():
    x = _l_shape()
    # counter-clockwise quarter turns carry the top-left corner: TL -> BL -> BR -> TR
    corners = {0: (0, 0), 1: (3, 0), 2: (3, 3), 3: (0, 3)}
    for k, (r, c) in corners.items():
        out = rotate(x, torch.tensor([k]))
        assert out[0, 0, r, c] == 1.0, k
    xs = x.repeat(64, 3, 1, 1) + torch.arange(64.0).view(64, 1, 1, 1)  # tell images apart
    out, k = rotation_batch(xs, torch.Generator().manual_seed(0))
    assert set(k.tolist()) == {0, 1, 2, 3}
    for i in range(64):  # undoing k quarter turns gives the original back
        assert torch.equal(torch.rot90(out[i], -int(k[i]), dims=(1, 2)), xs[i])


def test_rotation_loss_is_cross_entropy_on_the_turn():
    torch.manual_seed(0)
    enc = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 5))
    loss_fn = RotationLoss(enc, 5)
    x = torch.rand(10, 3, 8, 8)
    loss = loss_fn(x, torch.Generator().manual_seed(3))
    xr, k = rotation_batch(x, torch.Generator().manual_seed(3))
    torch.testing.assert_close(loss, F.cross_entropy(loss_fn.head(enc(xr)), k))


def test_consistency_zero_below_threshold_and_ce_above():
    loss_fn = ConsistencyLoss(threshold=0.9)
    strong = torch.randn(6, 4, requires_grad=True)
    flat = torch.zeros(6, 4)  # every weak prediction at 0.25
    assert loss_fn(flat, strong).item() == 0.0 and loss_fn.mask_rate == 0.0
    weak = torch.zeros(6, 4)
    weak[torch.arange(6), torch.tensor([0, 1, 2, 3, 0, 1])] = 10.0  # all confident
    pseudo = weak.argmax(1)
    torch.testing.assert_close(loss_fn(weak, strong), F.cross_entropy(strong, pseudo))
    assert loss_fn.mask_rate == 1.0
    weak[3:] = 0.0  # half confident: mean over the whole batch, zeros for the rest
    want = F.cross_entropy(strong[:3], pseudo[:3], reduction="sum") / 6
    torch.testing.assert_close(loss_fn(weak, strong), want)
    weak_p = weak.clone().requires_grad_(True)
    loss_fn(weak_p, strong).backward()
    assert weak_p.grad is None  # no gradient through the pseudo-labeller


def test_strong_augment_shape_range_determinism():
    x = torch.rand(8, 3, 32, 32)
    a = strong_augment(x, torch.Generator().manual_seed(5))
    b = strong_augment(x, torch.Generator().manual_seed(5))
    c = strong_augment(x, torch.Generator().manual_seed(6))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a - x).abs().mean() > 0.05  # it does change the images
    w = weak_augment(x, torch.Generator().manual_seed(5))
    assert w.shape == x.shape and torch.equal(w, weak_augment(x, torch.Generator().manual_seed(5)))
    # weak: a small shift -- a shifted bar stays mostly where it was
    bar = torch.zeros(1, 3, 32, 32)
    bar[..., 12:20, 12:20] = 1.0
    ws = weak_augment(bar.repeat(4, 1, 1, 1), torch.Generator().manual_seed(0))
    assert (ws[..., 14:18, 14:18] > 0.5).all()


def test_rotation_pretraining_learns_the_turns():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 3, 32, 32)
    x[:, :, 4:10, 4:28] = 1.0  # a bar at the top: its position gives the turn away
    x += 0.05 * torch.rand(x.shape, generator=g)
    torch.manual_seed(0)
    model = cosine_net()
    accs = pretrain_rotation(model.encoder, model.feature_dim, x[:32], x[32:],
                             Budget(steps=30, batch_size=32, lr=2e-3), seed=0)
    assert sum(accs[-5:]) / 5 > 0.9


def test_pac_stage_two_learns_a_tiny_problem():
    def blobs(n, shift, seed):
        g = torch.Generator().manual_seed(seed)
        y = torch.arange(n) % 3
        x = torch.full((n, 3, 32, 32), 0.1) + 0.05 * torch.rand(n, 3, 32, 32, generator=g)
        for c in range(3):
            x[y == c, :, 4 + 8 * c:10 + 8 * c, 6 + shift:26 + shift] = 0.9
        return x, y

    xs, ys = blobs(60, 0, 0)
    xt, yt = blobs(60, 3, 1)
    xl, yl = few_shot(xt, yt, 1, seed=0, classes=3)
    torch.manual_seed(0)
    model = cosine_net(classes=3)
    rates = train_pac(model, xs, ys, xl, yl, xt, Budget(steps=40, batch_size=16, lr=2e-3),
                      seed=0)
    assert accuracy(model, xt, yt) > 0.8
    assert rates[-1] > rates[0]  # more pseudo-labels pass the threshold as it learns


@pytest.mark.parametrize("sets, match", [
    (["shots=1,1"], r"--set shots=1,1 is out of range: name each shot count once"),
    (["shots=3,1,3"], "name each shot count once"),
    (["shots=0"], "positive shot counts"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path, sets, match):
    with pytest.raises(UsageError, match=match):
        run_experiment(get("pac"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)


def test_too_many_shots_are_refused_before_any_training(tmp_path, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("training started before the shot count was checked")

    monkeypatch.setattr(pac_experiment, "train_s_plus_t", no_training)
    with pytest.raises(UsageError, match=r"--set shots=1,100000 is out of range: mnist-m's "
                                         r"labelled train part has \d+ images of its smallest"):
        run_experiment(get("pac"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["shots=1,100000"], console=Console(quiet=True), progress=False)


def test_gap_share_is_gap_closed_and_na_without_a_gap():
    assert pac_experiment._share(0.8, 0.6, 1.0) == "0.50"
    assert pac_experiment._share(0.5, 0.6, 1.0) == "-0.25"  # worse than S+T: negative
    assert pac_experiment._share(0.8, 0.7, 0.7) == "n/a"  # no gap: not a huge number
    assert pac_experiment._share(0.8, 0.7, 0.6) == "n/a"  # ceiling below S+T
