"""The shared protocol pieces: pairs, metrics, batch streams, the network, the source-only loop."""

from __future__ import annotations

import math

import pytest
import torch

from introdl.adaptation.domains import PAIRS
from introdl.adaptation.metrics import (
    class_silhouette,
    gap_closed,
    h_score,
    knn_class_accuracy,
    proxy_a_distance,
)
from introdl.adaptation.networks import DigitNet
from introdl.adaptation.protocol import fmt, mean_std, resolve_pairs
from introdl.adaptation.train import Budget, accuracy, embed, train_source_only
from introdl.engine.steps import batches
from introdl.errors import UsageError


def test_pairs_default_to_every_offline_pair_or_take_exactly_one():
    assert resolve_pairs("", "") == list(PAIRS)
    assert resolve_pairs("svhn", "mnist") == [("svhn", "mnist")]
    with pytest.raises(UsageError, match="set both"):
        resolve_pairs("svhn", "")
    with pytest.raises(UsageError, match="two different"):
        resolve_pairs("mnist5k", "mnist5k")


def test_proxy_a_distance_is_two_for_separable_domains_and_near_zero_for_one_domain():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 8, generator=g)
    assert proxy_a_distance(a[:400], a[:400] + 10.0) == pytest.approx(2.0)
    same = proxy_a_distance(a[:2000], a[2000:], max_per_domain=2000)
    assert abs(same) < 0.2  # chance: error 1/2 up to the noise of 2,000 held-out points


def test_class_separation_scores_see_tight_clusters_and_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(300) % 3
    centres = torch.eye(3, 6) * 10
    tight = centres[y] + 0.1 * torch.randn(300, 6, generator=g)
    noise = torch.randn(300, 6, generator=g)
    assert knn_class_accuracy(tight, y) > 0.99 and knn_class_accuracy(noise, y) < 0.5
    assert class_silhouette(tight, y) > 0.9 > 0.1 > class_silhouette(noise, y)


def test_gap_closed_and_h_score_formulas():
    assert gap_closed(0.8, 0.6, 1.0) == pytest.approx(0.5)
    assert math.isnan(gap_closed(0.8, 0.9, 0.9))
    assert h_score(0.5, 1.0) == pytest.approx(2 / 3) and h_score(0.0, 0.7) == 0.0


def test_mean_std_and_its_text():
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(math.sqrt(2)))
    assert fmt([0.5]) == "0.500" and fmt([0.5, 0.7]) == "0.600 ± 0.141"


def test_batches_cover_every_sample_once_per_pass_and_repeat_with_the_seed():
    x = torch.arange(10)
    stream = batches(x, batch_size=5, generator=torch.Generator().manual_seed(0))
    first = torch.cat([next(stream)[0] for _ in range(2)])
    assert sorted(first.tolist()) == list(range(10))
    again = batches(x, batch_size=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(next(again)[0], first[:5])


def test_digit_net_features_and_logits():
    net = DigitNet()
    x = torch.rand(4, 3, 32, 32)
    assert net.features(x).shape == (4, net.feature_dim) == (4, 128)
    assert torch.allclose(net(x), net.head(net.features(x)))
    with pytest.raises(ValueError, match="backbone"):
        DigitNet(backbone="vgg")


def test_source_only_training_learns_a_separable_toy_problem():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (256,), generator=g)
    x = torch.rand(256, 3, 32, 32, generator=g) * 0.3
    x[y == 1, :, :16] += 0.6  # class 1: bright top half
    torch.manual_seed(0)
    net = DigitNet(classes=2)
    losses = train_source_only(net, x, y, Budget(steps=60, batch_size=32, lr=3e-3), seed=0)
    assert losses[-1] < 0.1 * losses[0] and accuracy(net, x, y) > 0.95
    assert embed(net, x[:5]).shape == (5, 128)
