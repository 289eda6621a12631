"""Discovery on toy embeddings with known clusters, and the similar-patch search."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from introdl.health.discovery import discover, similar


def _toy(seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.array([[5.0, 0, 0, 0], [0, 5.0, 0, 0], [0, 0, 5.0, 0]])
    group = np.repeat([0, 1, 2], 60)
    x = centres[group] + 0.5 * rng.standard_normal((len(group), 4))
    y = np.where(group == 2, rng.random(len(group)) < 0.9,
                 rng.random(len(group)) < 0.1).astype(float)
    return x, y, group


def test_kmeans_recovers_the_groups_and_the_enriched_one():
    x, y, group = _toy()
    d = discover(x, y, k=3, seed=0, n_nearest=5)
    assert adjusted_rand_score(group, d.labels) == pytest.approx(1.0)
    best = d.best()
    assert set(group[best.members]) == {2}
    assert best.outcome_share > 0.8
    assert best.enrichment == pytest.approx(best.outcome_share / y.mean())
    assert best.p_value < 1e-10 and best.odds_ratio > 10
    assert [c.outcome_share for c in d.clusters] == sorted(
        (c.outcome_share for c in d.clusters), reverse=True)
    # nearest members are members, closest to the centroid first
    centre = x[best.members].mean(0)
    dist = np.linalg.norm(x[best.nearest] - centre, axis=1)
    assert set(best.nearest) <= set(best.members) and np.all(np.diff(dist) >= -1e-9)


def test_similar_returns_the_query_cluster_by_cosine_without_the_query():
    x, _, group = _toy(1)
    idx, sim = similar(x, 7, k=10)
    assert 7 not in idx and len(idx) == 10
    assert set(group[idx]) == {group[7]}
    assert np.all(np.diff(sim) <= 1e-12)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(sim, xn[idx] @ xn[7], atol=1e-9)  # cosine, by hand
    best = int(np.argmax(np.where(np.arange(len(x)) == 7, -2, xn @ xn[7])))
    assert idx[0] == best  # against a brute-force search
    gone = np.zeros(len(x), bool)
    gone[idx[:3]] = True
    idx2, _ = similar(x, 7, k=5, exclude=gone)
    assert not set(idx2) & set(idx[:3]) and idx2[0] == idx[3]


def test_bad_input_is_refused():
    x, y, _ = _toy()
    with pytest.raises(ValueError, match="k=500"):
        discover(x, y, k=500)
    with pytest.raises(ValueError, match="query_index"):
        similar(x, len(x))
