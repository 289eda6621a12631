"""Discovery from patch embeddings: clusters, their outcome association, and similar-patch search.

The pathology "discovery" workflow (lecture 12): embed many patches with a trained model,
group them with k-means, look at each group's most typical patches (nearest the centroid)
and ask which groups are associated with the outcome (here: the share of positive patches in
the group against the overall share, with Fisher's exact test of group vs rest). A
similar-patch search (cosine nearest neighbours) lets a user ask "where else does this look
occur?". Generic: any (n, d) embedding array and any binary (0/1) outcome vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import fisher_exact
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors


@dataclass(frozen=True)
class Cluster:
    index: int  # cluster id (k-means label)
    size: int  # members
    members: np.ndarray  # indices into the embedding array
    nearest: np.ndarray  # up to n_nearest member indices, closest to the centroid first
    outcome_share: float  # mean outcome among members
    enrichment: float  # outcome_share / overall share (1 = no association)
    odds_ratio: float  # Fisher's exact test, cluster vs rest
    p_value: float  # two-sided


@dataclass(frozen=True)
class Discovery:
    clusters: list[Cluster]  # sorted by outcome share, highest first
    labels: np.ndarray  # cluster id per embedding
    overall_share: float

    def best(self) -> Cluster:
        """The cluster with the highest outcome share."""
        return self.clusters[0]


def discover(embeddings: np.ndarray, outcome: np.ndarray, k: int = 8, seed: int = 0,
             n_nearest: int = 6) -> Discovery:
    """k-means on the embeddings; per cluster its typical members and outcome association."""
    x = np.asarray(embeddings, float)
    y = np.asarray(outcome, float)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need (n, d) embeddings and n outcomes, got {x.shape} and {y.shape}")
    if k < 1 or k > len(x):
        raise ValueError(f"k={k} clusters needs 1 <= k <= {len(x)} embeddings")
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x)
    overall = float(y.mean())
    pos = int(y.sum())
    out = []
    for c in range(k):
        members = np.flatnonzero(km.labels_ == c)
        dist = np.linalg.norm(x[members] - km.cluster_centers_[c], axis=1)
        nearest = members[np.argsort(dist, kind="stable")[:n_nearest]]
        share = float(y[members].mean()) if len(members) else 0.0
        a = int(y[members].sum())
        table = [[a, len(members) - a], [pos - a, len(y) - len(members) - (pos - a)]]
        odds, p = fisher_exact(table)
        out.append(Cluster(c, len(members), members, nearest, share,
                           share / overall if overall > 0 else float("nan"),
                           float(odds), float(p)))
    out.sort(key=lambda cl: -cl.outcome_share)
    return Discovery(out, km.labels_.copy(), overall)


def similar(embeddings: np.ndarray, query_index: int, k: int = 5,
            exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` embeddings most cosine-similar to embedding ``query_index`` (itself excluded).

    ``exclude`` (bool per embedding) removes candidates, e.g. patches of the query's own
    slide, to ask "where *else* does this look occur?". Returns (indices, cosine
    similarities), most similar first.
    """
    x = np.asarray(embeddings, float)
    if not 0 <= query_index < len(x):
        raise ValueError(f"query_index={query_index} is not in 0..{len(x) - 1}")
    allowed = np.ones(len(x), bool) if exclude is None else ~np.asarray(exclude, bool)
    allowed[query_index] = False
    pool = np.flatnonzero(allowed)
    k = min(k, len(pool))
    if k == 0:
        return np.zeros(0, int), np.zeros(0)
    nn = NearestNeighbors(n_neighbors=k, metric="cosine").fit(x[pool])
    dist, idx = nn.kneighbors(x[query_index:query_index + 1])
    return pool[idx[0]], 1.0 - dist[0]
