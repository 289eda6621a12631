"""DANN: the reversal ramp, the domain loss formula, gradients going the right way, and PAD."""

import math

import torch
from torch import nn

from introdl.adaptation.dann import DomainAdversarialLoss, reversal_factor, train_dann
from introdl.adaptation.metrics import proxy_a_distance
from introdl.adaptation.train import Budget


def test_reversal_ramp_starts_at_zero_rises_and_ends_near_lambda():
    assert reversal_factor(0.0, 0.8) == 0.0
    ps = [i / 20 for i in range(21)]
    vals = [reversal_factor(p, 0.8) for p in ps]
    assert all(b > a for a, b in zip(vals, vals[1:], strict=False))
    assert math.isclose(reversal_factor(0.5, 0.8), 0.8 * (2 / (1 + math.exp(-5)) - 1))
    assert 0.79 < vals[-1] <= 0.8


def test_domain_loss_is_the_mean_bce_of_both_domains():
    torch.manual_seed(0)
    d = nn.Linear(4, 1)
    loss = DomainAdversarialLoss(lambda z: d(z).squeeze(1))
    zs, zt = torch.randn(3, 4), torch.randn(5, 4)
    ls, lt = d(zs).squeeze(1), d(zt).squeeze(1)
    # -[sum log s(ls) + sum log(1 - s(lt))] / (Ns + Nt)
    want = -(torch.log(torch.sigmoid(ls)).sum() + torch.log(1 - torch.sigmoid(lt)).sum()) / 8
    torch.testing.assert_close(loss(zs, zt), want)
    acc = ((ls > 0).sum() + (lt <= 0).sum()).item() / 8
    assert math.isclose(loss.domain_acc, acc)


def test_discriminator_descends_while_features_ascend_the_domain_loss():
    torch.manual_seed(1)
    d = nn.Linear(4, 1)
    loss = DomainAdversarialLoss(lambda z: d(z).squeeze(1))
    loss.reverse.lam = 0.5
    zs, zt = torch.randn(6, 4, requires_grad=True), torch.randn(6, 4, requires_grad=True)
    loss(zs, zt).backward()
    g_d, g_zs = d.weight.grad.clone(), zs.grad.clone()
    # the same loss without reversal
    d.weight.grad = None
    zs2, zt2 = zs.detach().clone().requires_grad_(True), zt.detach().clone().requires_grad_(True)
    plain = nn.BCEWithLogitsLoss()(d(torch.cat([zs2, zt2])).squeeze(1),
                                   torch.cat([torch.ones(6), torch.zeros(6)]))
    plain.backward()
    torch.testing.assert_close(g_d, d.weight.grad)  # D: ordinary gradient descent
    torch.testing.assert_close(g_zs, -0.5 * zs2.grad)  # features: reversed and scaled


class Toy(nn.Module):
    """A DigitNet-shaped toy: a 1-D linear feature ``z = w . x`` of 2-D points, and a head."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(2, 1)
        self.head = nn.Linear(1, 2)
        self.feature_dim = 1

    def features(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.head(self.encoder(x))


def toy_domains(shift: float = 4.0, n: int = 400):
    """Classes differ along x1; the target is the source moved by ``shift`` along x2."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    xs = torch.randn(n, 2, generator=g) * 0.5 + torch.stack([y * 2.0 - 1, torch.zeros(n)], 1)
    return xs, y, xs + torch.tensor([0.0, shift])


def leak(model: Toy) -> float:
    """|w2 / w1|: how much of the domain direction x2 the feature carries."""
    w = model.encoder.weight[0]
    return (w[1] / w[0]).abs().item()


def test_dann_removes_the_domain_direction_and_helps_the_target_on_a_toy():
    xs, ys, xt = toy_domains()
    budget = Budget(steps=200, batch_size=64, lr=1e-2)
    out = {}
    for lam in (0.0, 1.0):  # lam = 0: source-only training (the discriminator cannot push back)
        torch.manual_seed(0)
        model = Toy()
        losses = train_dann(model, xs, ys, xt, budget, seed=0, lam=lam)
        assert all(math.isfinite(v) for v in losses)
        with torch.no_grad():
            out[lam] = leak(model), (model(xt).argmax(1) == ys).float().mean().item()
    assert out[0.0][0] > 0.1 and out[1.0][0] < 0.05, out  # w ⟂ the shift after DANN
    assert out[1.0][1] >= out[0.0][1] + 0.05, out  # and the target is classified better


def test_proxy_a_distance_takes_the_best_linear_svm_over_c():
    """Ganin et al.'s procedure: the smallest held-out error over C, so an upper estimate."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(600, 6, generator=g)
    b = torch.randn(600, 6, generator=g) + torch.tensor([0.6, 0, 0, 0, 0, 0])  # overlapping
    best = proxy_a_distance(a, b)
    singles = [proxy_a_distance(a, b, cs=(c,)) for c in (1e-3, 1e-2, 1e-1, 1.0)]
    assert 0.2 < best < 1.8, best  # neither chance nor separable
    assert best == max(singles), (best, singles)


def test_proxy_a_distance_and_knn_take_seeds_past_scikit_learns_range():
    """A run's ``seed + i`` can reach 2**32 (--seed 4294967295, seeds=2): no crash."""
    from introdl.adaptation.metrics import knn_class_accuracy

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(40, 4, generator=g), torch.randn(40, 4, generator=g) + 1.0
    pad = proxy_a_distance(a, b, seed=2**32 + 1)
    assert 0.0 <= pad <= 2.0
    assert pad == proxy_a_distance(a, b, seed=2**32 + 1)  # still reproducible
    y = torch.arange(40) % 2
    assert knn_class_accuracy(a, y, seed=2**32 + 3) == knn_class_accuracy(a, y, seed=3)
