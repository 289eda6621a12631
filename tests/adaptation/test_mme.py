"""MME: the cosine head, the minimax entropy's gradient signs, the k-shot sampler."""

import pytest
import torch
import torch.nn.functional as F

from introdl.adaptation.mme import (
    AdversarialEntropy,
    CosineClassifier,
    cosine_net,
    entropy,
    few_shot,
    train_mme,
    train_s_plus_t,
)
from introdl.adaptation.train import Budget, accuracy
from introdl.errors import UsageError


def test_cosine_classifier_is_scaled_cosine_similarity():
    torch.manual_seed(0)
    head = CosineClassifier(5, classes=3, temperature=0.05)
    z = torch.randn(4, 5)
    want = torch.stack([F.cosine_similarity(z, w.expand_as(z), dim=1)
                        for w in head.weight], 1) / 0.05
    torch.testing.assert_close(head(z), want)
    assert head(z).abs().max() <= 1 / 0.05 + 1e-4
    torch.testing.assert_close(head(3.0 * z), head(z))  # feature norm does not matter


def test_entropy_matches_formula_and_extremes():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [50.0, 0.0, 0.0, 0.0]])
    p = logits.softmax(1)
    torch.testing.assert_close(entropy(logits), -(p * p.log()).sum(1).mean())
    assert entropy(logits[:1]).item() == pytest.approx(torch.log(torch.tensor(4.0)).item())
    assert entropy(logits[1:]).item() < 1e-6


def test_adversarial_entropy_gradient_signs():
    """The classifier ascends the entropy, the encoder beneath the reversal descends it."""
    torch.manual_seed(0)
    encoder = torch.nn.Linear(6, 8)
    head = CosineClassifier(8, classes=4, temperature=0.5)
    x = torch.randn(16, 6)
    loss = AdversarialEntropy(head, lam=0.1)(encoder(x))
    loss.backward()
    g_head = [p.grad.clone() for p in head.parameters()]
    g_enc = [p.grad.clone() for p in encoder.parameters()]
    # the plain gradient of H w.r.t. each part
    for p in [*head.parameters(), *encoder.parameters()]:
        p.grad = None
    entropy(head(encoder(x))).backward()
    for got, h in zip(g_head, [p.grad for p in head.parameters()], strict=True):
        torch.testing.assert_close(got, -0.1 * h)  # descending loss = ascending H
    for got, h in zip(g_enc, [p.grad for p in encoder.parameters()], strict=True):
        torch.testing.assert_close(got, 0.1 * h)  # descending loss = descending H
    # one small step each way moves H as claimed
    with torch.no_grad():
        h0 = entropy(head(encoder(x)))
        for p, gr in zip(head.parameters(), g_head, strict=True):
            p -= 0.5 * gr
        h_head = entropy(head(encoder(x)))
        for p, gr in zip(head.parameters(), g_head, strict=True):
            p += 0.5 * gr
        for p, gr in zip(encoder.parameters(), g_enc, strict=True):
            p -= 0.5 * gr
        h_enc = entropy(head(encoder(x)))
    assert h_head > h0 > h_enc


def test_few_shot_picks_k_per_class_from_given_part_only():
    y = torch.arange(10).repeat(7)  # 7 of each class
    x = torch.arange(70, dtype=torch.float32).view(70, 1, 1, 1).expand(70, 3, 2, 2)
    for k in (1, 3):
        xs, ys = few_shot(x, y, k, seed=0)
        assert torch.equal(torch.bincount(ys, minlength=10), torch.full((10,), k))
        idx = xs[:, 0, 0, 0].long()
        assert torch.equal(y[idx], ys)  # labels belong to the images picked
        assert len(set(idx.tolist())) == 10 * k
    a, _ = few_shot(x, y, 3, seed=1)
    b, _ = few_shot(x, y, 3, seed=1)
    c, _ = few_shot(x, y, 3, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(UsageError):
        few_shot(x, y, 8, seed=0)


def _blobs(n, shift, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.full((n, 3, 32, 32), 0.1) + 0.05 * torch.rand(n, 3, 32, 32, generator=g)
    for c in range(3):
        x[y == c, :, 4 + 8 * c:10 + 8 * c, 6 + shift:26 + shift] = 0.9
    return x, y


def test_s_plus_t_and_mme_learn_a_tiny_problem():
    xs, ys = _blobs(60, 0, 0)
    xt, yt = _blobs(60, 3, 1)
    xl, yl = few_shot(xt, yt, 1, seed=0, classes=3)
    budget = Budget(steps=40, batch_size=16, lr=2e-3)
    torch.manual_seed(0)
    st = cosine_net(classes=3)
    train_s_plus_t(st, xs, ys, xl, yl, budget, seed=0)
    assert accuracy(st, xt, yt) > 0.8
    torch.manual_seed(0)
    mme = cosine_net(classes=3)
    ent = train_mme(mme, xs, ys, xl, yl, xt, budget, seed=0)
    assert accuracy(mme, xt, yt) > 0.8
    assert sum(ent[-5:]) / 5 < sum(ent[:5]) / 5  # the encoder wins: target entropy falls
