"""DANCE: its losses match their formulas, push entropy the right way, and train end to end."""

from __future__ import annotations

import json
import math

import pytest
import torch
from rich.console import Console

from introdl.adaptation.dance import (
    CosineClassifier,
    EntropySeparationLoss,
    MemoryBank,
    NeighbourhoodClusteringLoss,
    dance_net,
    default_rho,
    entropy,
    open_set_scores,
    rejection_auroc,
    source_threshold,
    train_dance,
)
from introdl.adaptation.domains import Domain
from introdl.adaptation.experiments.dance import open_partial, train_dann_cosine
from introdl.adaptation.train import Budget
from introdl.engine.steps import predict
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment


def test_entropy_is_minus_sum_p_log_p():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [2.0, -1.0, 0.5, 0.0]])
    p = logits.softmax(1)
    assert entropy(logits)[0].item() == pytest.approx(math.log(4), abs=1e-6)
    assert entropy(logits)[1].item() == pytest.approx(-(p[1] * p[1].log()).sum().item(), abs=1e-6)


def test_neighbourhood_clustering_equals_its_formula():
    torch.manual_seed(0)
    t, k, n, d = 0.5, 2, 5, 4
    f = torch.randn(3, d)
    bank = torch.nn.functional.normalize(torch.randn(n, d), dim=1)
    protos = torch.nn.functional.normalize(torch.randn(k, d), dim=1)
    index = torch.tensor([4, 0, 2])
    got = NeighbourhoodClusteringLoss(t)(f, index, bank, protos)

    fn = torch.nn.functional.normalize(f, dim=1)
    live = bank.clone()
    live[index] = fn
    total = 0.0
    for i in range(3):  # p_ij over prototypes and every bank row but its own
        sims = [fn[i] @ protos[c] / t for c in range(k)]
        sims += [fn[i] @ live[j] / t if j != index[i] else torch.tensor(-1 / t) for j in range(n)]
        p = torch.stack(sims).softmax(0)
        total += -(p * p.log()).sum()
    assert got.item() == pytest.approx(total.item() / 3, rel=1e-5)


def test_neighbourhood_clustering_pulls_a_feature_to_its_nearest_neighbour():
    bank = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    protos = torch.tensor([[-1.0, 0.0]])
    f = torch.tensor([[0.8, 0.6]], requires_grad=True)  # row 2 of the bank is it
    loss = NeighbourhoodClusteringLoss(0.2)(f, torch.tensor([2]), bank, protos)
    loss.backward()
    moved = torch.nn.functional.normalize(f - 0.1 * f.grad, dim=1)
    before, after = f.detach() @ bank[0] / f.detach().norm(), moved @ bank[0]
    assert after.item() > before.item()  # towards [1, 0], the closest other feature


@pytest.mark.parametrize("logits, direction", [
    ([6.0] + [0.0] * 7, "down"),  # H ~ 0.04 < rho - m: made more confident
    ([1.0] + [0.0] * 7, "up"),  # H ~ 2.0 > rho + m: made more uncertain
    ([3.0] + [0.0] * 7, "none"),  # H ~ 1.08, inside rho +- m: left alone
])
def test_entropy_separation_pushes_away_from_rho(logits, direction):
    rho = default_rho(8)  # log(8)/2 ~ 1.04
    x = torch.tensor([logits], requires_grad=True)
    loss = EntropySeparationLoss(rho, margin=0.5)(x)
    loss.backward()
    h0 = entropy(x.detach()).item()
    h1 = entropy(x.detach() - 0.1 * x.grad).item()
    if direction == "none":
        assert abs(h0 - rho) < 0.5 and loss.item() == 0.0
        assert torch.count_nonzero(x.grad) == 0
    else:
        assert loss.item() == pytest.approx(-abs(h0 - rho), abs=1e-6)
        assert (h1 < h0) if direction == "down" else (h1 > h0)


def test_memory_bank_update_mixes_with_momentum_and_renormalises():
    bank = MemoryBank(4, 2, momentum=0.5)
    bank.fill(torch.tensor([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [-1.0, 0.0]]))
    assert torch.allclose(bank.features.norm(dim=1), torch.ones(4))
    old = bank.features.clone()
    bank.update(torch.tensor([[0.0, 1.0], [0.0, 2.0]]), torch.tensor([0, 3]))
    # 0.5 * old + 0.5 * new, then unit length: (.5, .5) and (-.5, 1)
    assert torch.allclose(bank.features[0], torch.tensor([0.5, 0.5]) / math.sqrt(0.5))
    assert torch.allclose(bank.features[3], torch.tensor([-0.5, 1.0]) / math.sqrt(1.25))
    assert torch.equal(bank.features[1:3], old[1:3])  # rows not in the batch are untouched


def test_memory_bank_momentum_zero_stores_the_new_feature():
    bank = MemoryBank(2, 2, momentum=0.0)
    bank.fill(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    bank.update(torch.tensor([[3.0, 4.0]]), torch.tensor([1]))
    assert torch.allclose(bank.features[1], torch.tensor([0.6, 0.8]))


def test_cosine_classifier_is_cosine_over_temperature():
    head = CosineClassifier(3, 2, temperature=0.1)
    z = torch.tensor([[1.0, 2.0, 2.0]])
    w = head.weight.detach()
    cos = (w @ z[0]) / (w.norm(dim=1) * 3.0)
    assert torch.allclose(head(z)[0], cos / 0.1, atol=1e-5)
    assert head(torch.randn(5, 3)).abs().max() <= 10.0 + 1e-4


def test_open_set_scores_count_rejections():
    k = 2
    logits = torch.tensor([[9.0, 0.0], [0.0, 9.0], [0.0, 0.1], [9.0, 0.0], [0.1, 0.0]])
    y = torch.tensor([0, 0, 1, k, k])  # right, wrong class, rejected known, accepted/rejected unk
    s = open_set_scores(logits, y, rho=default_rho(k))
    assert s["known_acc"] == pytest.approx(1 / 3)
    assert s["unknown_recall"] == pytest.approx(1 / 2)
    assert s["h_score"] == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))


def _fake_domain(name: str, n: int, seed: int) -> Domain:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 10
    x = torch.rand(n, 3, 32, 32, generator=g)
    return Domain(name, x, y, x[:5], x.flip(0), y.flip(0))


def test_open_partial_drops_private_digits_and_marks_unknown():
    d = open_partial(_fake_domain("s", 40, 0), _fake_domain("t", 40, 1), shared=6,
                     source_private=2)
    assert d.classes == 8 and set(d.ys.tolist()) == set(range(8))
    assert len(d.xt) == 32  # 8 of 10 digits (6 and 7 dropped) of 40
    assert set(d.yt_test.tolist()) == {0, 1, 2, 3, 4, 5, 8}  # 8 = K = "unknown"
    assert len(d.xs_val) == 32  # the source's held-out part, its K = 8 classes only


def test_source_threshold_accepts_the_asked_share_of_source_images():
    h = torch.linspace(0.0, 2.0, 101)  # 0.00, 0.02, ..., 2.00
    t = source_threshold(h, keep=0.95)
    assert t == pytest.approx(1.9)
    assert (h <= t).float().mean().item() == pytest.approx(96 / 101)
    assert source_threshold(h, keep=0.5) < t  # keeping fewer gives a lower threshold
    with pytest.raises(ValueError):
        source_threshold(h, keep=1.0)


def test_rejection_auroc_ranks_unknowns_by_entropy():
    k = 2
    confident, unsure = [6.0, 0.0], [0.1, 0.0]
    y = torch.tensor([0, 1, k, k])
    assert rejection_auroc(torch.tensor([confident, confident, unsure, unsure]), y) == 1.0
    assert rejection_auroc(torch.tensor([unsure, unsure, confident, confident]), y) == 0.0
    mixed = torch.tensor([confident, unsure, confident, unsure])
    assert rejection_auroc(mixed, y) == pytest.approx(0.5)


def _blobs(classes: list[int], n: int, shift: float, seed: int) -> tuple[torch.Tensor, ...]:
    """Images with one bright quadrant/stripe per class, shifted in colour for the target."""
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor(classes).repeat(n // len(classes))
    x = 0.1 * torch.rand(len(y), 3, 32, 32, generator=g)
    for i, c in enumerate(y.tolist()):
        r, col = divmod(c, 2)
        x[i, :, 16 * r:16 * r + 16, 16 * col:16 * col + 16] += 0.8
    x[:, 0] += shift
    return x.clamp(0, 1), y


def test_tiny_dance_run_learns_the_source_and_rejects_by_entropy():
    torch.manual_seed(0)
    xs, ys = _blobs([0, 1, 2], 90, 0.0, 0)
    xt, _ = _blobs([0, 1, 3], 60, 0.3, 1)  # class 2 absent, class 3 unknown to the source
    model = dance_net(3, hidden=32)
    losses = train_dance(model, xs, ys, xt, Budget(steps=40, batch_size=16), seed=0, eta=0.3)
    assert all(math.isfinite(v) for v in losses)
    assert (predict(model, xs).argmax(1) == ys).float().mean() > 0.9
    xt_test, yt = _blobs([0, 1, 3], 30, 0.3, 2)
    h = entropy(predict(model, xt_test))
    assert h[yt == 3].mean() > h[yt < 3].mean()  # the unknown class is the uncertain one


def test_dann_on_normalised_features_still_learns_the_source():
    torch.manual_seed(0)
    xs, ys = _blobs([0, 1, 2], 90, 0.0, 0)
    xt, _ = _blobs([0, 1, 3], 60, 0.3, 1)
    model = dance_net(3, hidden=32)
    train_dann_cosine(model, xs, ys, xt, Budget(steps=40, batch_size=16), seed=0)
    assert (predict(model, xs).argmax(1) == ys).float().mean() > 0.9


def test_tiny_run_scores_every_method_with_both_thresholds(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("dance"), out=out, quick=True, device="cpu",
                   sets=["steps=4", "batch_size=16", "methods=source-only,dann,dance"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for method in ("source_only", "dann", "dance"):
        assert 0.0 <= m[f"{method}_src_h_score"] <= 1.0
        assert 0.0 <= m[f"{method}_auroc"] <= 1.0
        assert m[f"{method}_src_threshold_mnist5k_to_uci_digits"] >= 0.0
    assert m["dann_h_loss_src"] == pytest.approx(m["source_only_src_h_score"]
                                                 - m["dann_src_h_score"])
    assert (out / "entropy.png").exists() and (out / "h_score.png").exists()


@pytest.mark.parametrize("key", ["keep=1.0", "dann_dropout=1.5", "methods=dann,dance"])
def test_bad_settings_are_refused_in_one_line(tmp_path, key):
    with pytest.raises(UsageError, match=key.split("=")[0]):
        run_experiment(get("dance"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[key], console=Console(quiet=True), progress=False)
