"""The numeric steps behind :class:`cxlens.nlp.topics._model.TopicModel`, as plain functions.

All inputs are L2-normalised float32 embeddings, so a dot product is a cosine similarity.
Labels are cluster indices ``0..k-1`` with ``-1`` for noise (outliers).

Which clustering runs (``method="auto"``) depends on the number of messages ``n``:

* ``n <= large_threshold`` (default 20,000): PCA to ``n_components`` dimensions (default 5),
  then ``sklearn.cluster.HDBSCAN`` (density clusters of any shape and size, noise allowed).
* ``n > large_threshold``: HDBSCAN on a random sample of ``sample_size`` (default 10,000)
  messages finds the topics and their centroids; ``MiniBatchKMeans`` started from those
  centroids then assigns every message in batches (linear time and memory in ``n``).
* ``method="kmeans"``: MiniBatchKMeans with ``n_topics`` clusters (or ``sqrt(n)/3``, within
  [2, 60]); ``method="hdbscan"``: HDBSCAN on all messages whatever ``n`` is.

From 5,000 messages on, HDBSCAN keeps no cluster above 20% of them (``MAX_CLUSTER_SHARE``):
its excess-of-mass selection otherwise returns a few huge, very stable clusters (two brands
in one file) instead of topics.  If HDBSCAN finds fewer than two clusters (tiny inputs),
k-means with ``max(2, n // 10)`` (at most 10) clusters is used instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Clustering",
    "auto_min_topic_size",
    "centroids_of",
    "cluster_embeddings",
    "match_centroids",
    "merge_clusters",
    "normalise",
    "seed_refine",
    "typicality",
]

log = logging.getLogger(__name__)

#: HDBSCAN ``min_samples``: small, so short texts in sparse regions are not all called noise.
MIN_SAMPLES = 2
#: HDBSCAN ``max_cluster_size`` as a share of the messages: the "excess of mass" selection likes a
#: few huge, very stable clusters (two brands, two languages); above this share it looks deeper.
MAX_CLUSTER_SHARE = 0.2
#: ... only from this many messages on (a small file may well hold four topics of 25% each).
MAX_CLUSTER_MIN_N = 5_000


@dataclass
class Clustering:
    """Result of one clustering step: labels (``-1`` noise) and how they were made."""

    labels: np.ndarray
    method: str


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def auto_min_topic_size(n: int) -> int:
    """The default smallest topic: 0.4% of the messages, at least 5 (so 60 for 15,000)."""
    return max(5, int(round(0.004 * n)))


def centroids_of(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Normalised mean embedding of each cluster ``0..k-1`` (noise ignored)."""
    keep = labels >= 0
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    np.add.at(sums, labels[keep], x[keep])
    return normalise(sums)


def _relabel(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels renumbered ``0..k-1`` (noise stays -1)."""
    uniq = np.unique(labels[labels >= 0])
    out = np.full(labels.shape, -1, dtype=np.int64)
    keep = labels >= 0
    out[keep] = np.searchsorted(uniq, labels[keep])
    return out, len(uniq)


def _hdbscan(x: np.ndarray, *, min_topic_size: int, n_components: int, random_state: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    n_comp = max(1, min(n_components, x.shape[1], len(x) - 1))
    z = PCA(n_components=n_comp, random_state=random_state).fit_transform(x)
    model = HDBSCAN(min_cluster_size=max(2, min_topic_size), min_samples=max(1, min(MIN_SAMPLES, min_topic_size)),
                    max_cluster_size=(max(2 * min_topic_size, int(MAX_CLUSTER_SHARE * len(x)))
                                      if len(x) >= MAX_CLUSTER_MIN_N else None),
                    cluster_selection_method="eom", copy=True)
    return model.fit_predict(z).astype(np.int64)


def _kmeans(x: np.ndarray, k: int, *, random_state: int, init: np.ndarray | None = None) -> np.ndarray:
    from sklearn.cluster import MiniBatchKMeans

    k = max(1, min(k, len(x)))
    model = MiniBatchKMeans(n_clusters=k, init="k-means++" if init is None else init, n_init=3 if init is None else 1,
                            batch_size=4096, random_state=random_state, max_no_improvement=20)
    return model.fit_predict(x).astype(np.int64)


def cluster_embeddings(x: np.ndarray, *, method: str, n_topics: int | None, min_topic_size: int,
                       n_components: int, large_threshold: int, sample_size: int,
                       random_state: int) -> Clustering:
    """Cluster ``x`` by the rule in the module docstring."""
    n = len(x)
    if method == "auto":
        method = "hdbscan" if n <= large_threshold else "hdbscan-sample+kmeans"
    if method == "kmeans":
        k = n_topics or int(np.clip(round(np.sqrt(n) / 3), 2, 60))
        return Clustering(_kmeans(x, k, random_state=random_state), "kmeans")
    if method == "hdbscan":
        labels, k = _relabel(_hdbscan(x, min_topic_size=min_topic_size, n_components=n_components,
                                      random_state=random_state))
    else:  # sample + kmeans
        rng = np.random.default_rng(random_state)
        sample = np.sort(rng.choice(n, size=min(n, sample_size), replace=False))
        sub_size = max(5, int(round(min_topic_size * len(sample) / n)))
        sub, k = _relabel(_hdbscan(x[sample], min_topic_size=sub_size, n_components=n_components,
                                   random_state=random_state))
        if k >= 2:
            init = centroids_of(x[sample], sub, k)
            return Clustering(_kmeans(x, k, random_state=random_state, init=init), "hdbscan-sample+kmeans")
        labels = sub
    if k < 2:
        k_fallback = n_topics or max(2, min(10, n // 10))
        log.info("HDBSCAN found %d cluster(s) in %d messages; using k-means with %d clusters", k, n, k_fallback)
        return Clustering(_kmeans(x, k_fallback, random_state=random_state), "kmeans")
    return Clustering(labels, "hdbscan")


def merge_clusters(x: np.ndarray, labels: np.ndarray, k: int, target: int,
                   protected: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Merge clusters to ``target`` by average-linkage agglomerative clustering of their centroids.

    Returns ``(labels, groups)``: new labels ``0..target-1`` and, for each old cluster, its new
    cluster.  ``protected`` (bool per old cluster, e.g. seed topics) are never merged together.
    """
    from sklearn.cluster import AgglomerativeClustering

    if k <= target:
        return labels, np.arange(k)
    cents = centroids_of(x, labels, k)
    dist = 1.0 - np.clip(cents @ cents.T, -1.0, 1.0)
    if protected is not None and protected.sum() > 1:
        idx = np.flatnonzero(protected)
        dist[np.ix_(idx, idx)] = 2.0 + dist[np.ix_(idx, idx)]  # never the closest pair
        np.fill_diagonal(dist, 0.0)
    groups = AgglomerativeClustering(n_clusters=target, metric="precomputed", linkage="average").fit_predict(dist)
    new = np.where(labels >= 0, groups[np.maximum(labels, 0)], -1)
    return new.astype(np.int64), groups.astype(np.int64)


def seed_refine(x: np.ndarray, labels: np.ndarray, k: int, seeds: np.ndarray, *,
                n_iter: int = 5) -> tuple[np.ndarray, int]:
    """Start from the seed vectors plus the discovered clusters no seed claims; refine by k-means.

    A discovered cluster is *claimed* by a seed when the two are paired by the Hungarian
    algorithm on cosine similarity and the seed is closer to the cluster than any other
    discovered cluster is (so the seed replaces it rather than splitting it).  Then a few
    spherical k-means steps run over the non-noise messages.  Clusters ``0..len(seeds)-1``
    of the result are the seeds; noise stays noise.
    """
    from scipy.optimize import linear_sum_assignment

    s = len(seeds)
    cents = centroids_of(x, labels, k) if k else np.zeros((0, x.shape[1]), dtype=np.float32)
    claimed = np.zeros(k, dtype=bool)
    if k:
        sim = seeds @ cents.T
        between = cents @ cents.T
        np.fill_diagonal(between, -np.inf)
        nearest_other = between.max(axis=1) if k > 1 else np.full(k, -np.inf)
        rows, cols = linear_sum_assignment(-sim)
        for r, c in zip(rows, cols):
            if sim[r, c] >= nearest_other[c]:
                claimed[c] = True
    init = np.vstack([seeds, cents[~claimed]]).astype(np.float32)
    core = labels >= 0
    xc = x[core]
    centres = init.copy()
    for _ in range(n_iter):
        assign = np.argmax(xc @ centres.T, axis=1)
        sums = np.zeros_like(centres, dtype=np.float64)
        np.add.at(sums, assign, xc)
        counts = np.bincount(assign, minlength=len(centres))
        moved = normalise(sums)
        centres = np.where(counts[:, None] > 0, moved, centres)
    assign = np.argmax(xc @ centres.T, axis=1)
    new = np.full(labels.shape, -1, dtype=np.int64)
    new[core] = assign
    # drop empty non-seed clusters, keep seed numbering 0..s-1
    counts = np.bincount(assign, minlength=len(centres))
    keep = np.flatnonzero((np.arange(len(centres)) < s) | (counts > 0))
    remap = np.full(len(centres), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    new[core] = remap[new[core]]
    return new, len(keep)


def typicality(sims: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Confidence from a similarity: ``min(1, 2 * F(sim))``, ``F`` = the topic's member-similarity CDF.

    1.0 means at least as close to the centroid as the topic's median member; 0.0 means
    farther than every member seen in ``fit``.  ``quantiles`` are the 0..100th percentiles.
    """
    grid = np.linspace(0.0, 1.0, len(quantiles))
    cdf = np.interp(sims, quantiles, grid, left=0.0, right=1.0)
    return np.minimum(1.0, 2.0 * cdf)


def match_centroids(new: np.ndarray, old: np.ndarray, *, min_similarity: float) -> dict[int, tuple[int, float]]:
    """Pair new centroids with old ones (Hungarian on cosine); ``{new_row: (old_row, cosine)}``.

    A pair is kept only when its cosine is at least ``min_similarity`` *and* at least the cosine
    between the old centroid and its nearest other old centroid: the new topic must be closer to
    the old one than the old topics are to each other, so a new topic never inherits the id of an
    unrelated old one (embedding spaces differ in how similar unrelated centroids look).
    """
    from scipy.optimize import linear_sum_assignment

    if not len(new) or not len(old):
        return {}
    sim = new @ old.T
    between = old @ old.T
    np.fill_diagonal(between, -np.inf)
    sibling = between.max(axis=1) if len(old) > 1 else np.full(len(old), -np.inf)
    rows, cols = linear_sum_assignment(-sim)
    return {int(r): (int(c), float(sim[r, c])) for r, c in zip(rows, cols)
            if sim[r, c] >= max(min_similarity, sibling[c])}
