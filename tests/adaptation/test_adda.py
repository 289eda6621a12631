"""ADDA: each player's step moves only its own parameters, and the encoder step fools D."""

import copy
import math

import torch

from introdl.adaptation.adda import (
    ADDAConfig,
    DiscriminatorLoss,
    InvertedLabelLoss,
    discriminator_step,
    encoder_step,
    train_adda,
)
from introdl.adaptation.train import Budget, train_source_only
from introdl.nn.adversarial import DomainDiscriminator


class Toy(torch.nn.Module):
    """The toy of test_dann: a 1-D linear feature ``z = w . x`` of 2-D points, and a head."""

    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Linear(2, 1)
        self.head = torch.nn.Linear(1, 2)
        self.feature_dim = 1

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


def _params(m: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _pretrained():
    xs, ys, xt = toy_domains()
    torch.manual_seed(0)
    model = Toy()
    train_source_only(model, xs, ys, Budget(steps=150, lr=1e-2), seed=0)
    return model, xs, ys, xt


def _players(model, lr_d=1e-2, lr_m=1e-2):
    torch.manual_seed(0)
    disc = DomainDiscriminator(1, hidden=16)
    target = copy.deepcopy(model.encoder)
    opt_d = torch.optim.Adam(disc.parameters(), lr_d, betas=(0.5, 0.999))
    opt_m = torch.optim.Adam(target.parameters(), lr_m, betas=(0.5, 0.999))
    return disc, target, opt_d, opt_m


def test_losses_match_their_formulas():
    torch.manual_seed(0)
    d = DomainDiscriminator(3, hidden=4)
    zs, zt = torch.randn(5, 3), torch.randn(7, 3)
    ls, lt = d(zs), d(zt)
    want_d = -torch.log(torch.sigmoid(ls)).mean() - torch.log(1 - torch.sigmoid(lt)).mean()
    torch.testing.assert_close(DiscriminatorLoss(d)(zs, zt), want_d)
    torch.testing.assert_close(InvertedLabelLoss(d)(zt), -torch.log(torch.sigmoid(lt)).mean())


def test_discriminator_step_leaves_both_encoders_untouched():
    model, xs, _, xt = _pretrained()
    disc, target, opt_d, _ = _players(model)
    before_s, before_t, before_d = _params(model.encoder), _params(target), _params(disc)
    discriminator_step(model.encoder, target, DiscriminatorLoss(disc), opt_d, xs[:64], xt[:64])
    assert _same(before_s, _params(model.encoder))
    assert _same(before_t, _params(target))
    assert all(p.grad is None for p in target.parameters())
    assert not _same(before_d, _params(disc))  # ... while D did move


def test_encoder_step_leaves_discriminator_and_source_untouched():
    model, _, _, xt = _pretrained()
    disc, target, _, opt_m = _players(model)
    before_s, before_t, before_d = _params(model.encoder), _params(target), _params(disc)
    encoder_step(target, InvertedLabelLoss(disc), opt_m, xt[:64])
    assert _same(before_d, _params(disc))
    assert all(p.grad is None for p in disc.parameters())  # no stale gradient left for D
    assert _same(before_s, _params(model.encoder))
    assert not _same(before_t, _params(target))  # ... while M_t did move


def test_encoder_steps_fool_a_fixed_discriminator():
    model, xs, _, xt = _pretrained()
    disc, target, opt_d, opt_m = _players(model)
    loss_d, loss_m = DiscriminatorLoss(disc), InvertedLabelLoss(disc)
    for i in range(100):  # D learns to tell the (shifted) target apart
        discriminator_step(model.encoder, target, loss_d, opt_d, xs[i % 6 * 64:][:64], xt[:64])

    def caught() -> float:  # share of target images D calls "target"
        with torch.no_grad():
            return (disc(target(xt)) <= 0).float().mean().item()

    before = caught()
    for _ in range(30):
        encoder_step(target, loss_m, opt_m, xt[:64])
    assert before > 0.65 and caught() < before - 0.3, (before, caught())


def test_train_adda_keeps_the_source_model_and_head_and_helps_the_target():
    model, xs, ys, xt = _pretrained()
    before = _params(model)
    cfg = ADDAConfig(steps=300, lr_discriminator=1e-2, lr_encoder=1e-2, hidden=16)
    adapted = train_adda(model, xs, xt, cfg, seed=0)
    assert _same(before, _params(model))  # M_s and C are fixed
    assert _same(_params(model.head), _params(adapted.head))  # the classifier is the source's
    with torch.no_grad():
        acc = {m: (m(xt).argmax(1) == ys).float().mean().item() for m in (model, adapted)}
    assert math.isfinite(leak(adapted))
    assert leak(adapted) < leak(model) / 2, (leak(model), leak(adapted))
    assert acc[adapted] >= acc[model] + 0.03, acc
