"""The numeric steps behind :class:`cxlens.nlp.topics._model.TopicModel`, as plain functions.

All inputs are L2-normalised float32 embeddings, so a dot product is a cosine similarity.
Labels are cluster indices ``0..k-1`` with ``-1`` for noise (outliers).

Which clustering runs depends on ``method`` and the number of messages ``n``:

* ``"auto"`` (the default, chosen by measurement on BANKING77 and airline complaints; see
  docs/benchmarks.md, "Topics on real messages"): **neighbour-smoothed k-means**.  Each vector is
  replaced by the normalised sum of itself and its ``SMOOTH_NEIGHBOURS`` nearest neighbours
  (cosine), which pulls messages towards the dense core of their region the way UMAP does, without
  its randomness; spherical k-means with ``k = min(sqrt(n), n / 25)`` (within [``MIN_FINE``, ``MAX_FINE``])
  over-clusters the smoothed vectors; clusters smaller than the smallest topic are dissolved into
  their nearest neighbour cluster; then clusters whose centroids are closer than ``MERGE_RATIO``
  times their spread are merged (:func:`merge_close`).  Above ``large_threshold``
  messages this runs on a random ``sample_size`` sample and every message joins its nearest
  centroid (linear in ``n``).
* ``"kmeans"``: MiniBatchKMeans with ``n_topics`` clusters (or ``sqrt(n)/3``, within [2, 60]).
* ``"hdbscan"``: PCA to ``n_components`` dimensions, then ``sklearn.cluster.HDBSCAN`` (the
  method before issue 21; kept for comparison).  From 5,000 messages on it keeps no cluster above
  20% of them (``MAX_CLUSTER_SHARE``).  If HDBSCAN finds fewer than two clusters, k-means with
  ``max(2, n // 10)`` (at most 10) clusters is used instead.

Results depend only on the data (``"auto"``: not on the order of the messages, and on
``random_state`` only through the sample of a large input): fixed k-means seeds on a canonical
row order, stable sorts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Clustering",
    "dissolve_small",
    "merge_close",
    "neighbour_smoothed",
    "canonical_order",
    "parent_groups",
    "resolve_outliers",
    "smoothed_kmeans",
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
#: neighbours summed into each vector before k-means (measured: 5, 10 and 15 within 0.01 NMI)
SMOOTH_NEIGHBOURS = 10
#: fine clusters: k = min(sqrt(n), n / MIN_FINE_SIZE) within [MIN_FINE, MAX_FINE]
MIN_FINE, MAX_FINE, MIN_FINE_SIZE = 8, 150, 25
#: clusters whose centroids are closer than this share of their spread are one topic
MERGE_RATIO = 0.5
#: percentiles kept per topic for confidences (0, 1, ..., 100)
N_QUANTILES = 101
#: rows of the similarity matrix computed at once when finding neighbours (memory: chunk x n floats)
_KNN_CHUNK = 1024


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


def neighbour_smoothed(x: np.ndarray, n_neighbours: int = SMOOTH_NEIGHBOURS) -> np.ndarray:
    """Each row replaced by the normalised sum of itself and its ``n_neighbours`` most similar rows.

    Exact cosine neighbours, ``_KNN_CHUNK`` rows at a time (time O(n^2 d), memory O(chunk n));
    ties are broken by row order, so the result does not depend on the machine."""
    n = len(x)
    m = max(0, min(int(n_neighbours), n - 1))
    if m == 0:
        return normalise(x)
    out = np.empty_like(x, dtype=np.float32)
    for start in range(0, n, _KNN_CHUNK):
        sims = x[start:start + _KNN_CHUNK] @ x.T
        near = np.argpartition(-sims, m, axis=1)[:, :m + 1]  # the row itself is (one of) the nearest
        out[start:start + _KNN_CHUNK] = x[near].sum(axis=1)
    return normalise(out)


def dissolve_small(x: np.ndarray, labels: np.ndarray, k: int, min_size: int) -> tuple[np.ndarray, int]:
    """Members of clusters smaller than ``min_size`` join their nearest cluster that is large enough."""
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    big = np.flatnonzero(sizes >= min_size)
    if len(big) == len(sizes):
        return labels, k
    if not len(big):
        big = np.array([int(np.argmax(sizes))])
    cents = centroids_of(x, labels, k)[big]
    out = labels.copy()
    small = (labels >= 0) & ~np.isin(labels, big)
    out[small] = big[np.argmax(x[small] @ cents.T, axis=1)]
    return _relabel(out)


def _fine_kmeans(x: np.ndarray, k: int, *, random_state: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(x)))
    return KMeans(n_clusters=k, n_init=1, random_state=random_state).fit_predict(x).astype(np.int64)


def merge_close(x: np.ndarray, labels: np.ndarray, k: int, *, ratio: float | None = None) -> tuple[np.ndarray, int]:
    """Clusters closer than ``ratio`` (default ``MERGE_RATIO``) times their spread become one (average linkage).

    The spread of a cluster is ``1 - |mean member vector|`` (0 when all members are identical);
    two clusters are ``(1 - cos(centroids)) / max(spreads)`` apart.  Relative to the spread, so one
    rule fits dense sentence embeddings and sparse TF-IDF vectors alike."""
    from sklearn.cluster import AgglomerativeClustering

    if k < 2:
        return labels, k
    keep = labels >= 0
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    np.add.at(sums, labels[keep], x[keep])
    counts = np.maximum(np.bincount(labels[keep], minlength=k), 1)
    spread = np.clip(1.0 - np.linalg.norm(sums, axis=1) / counts, 1e-3, None)
    cents = normalise(sums)
    dist = np.clip(1.0 - cents @ cents.T, 0.0, 2.0) / np.maximum(spread[:, None], spread[None, :])
    np.fill_diagonal(dist, 0.0)
    groups = AgglomerativeClustering(n_clusters=None, distance_threshold=float(MERGE_RATIO if ratio is None else ratio), metric="precomputed",
                                     linkage="average").fit_predict(dist)
    return _relabel(np.where(labels >= 0, groups[np.maximum(labels, 0)], -1))


def canonical_order(x: np.ndarray) -> np.ndarray:
    """A row order that depends only on the rows' values (so results do not depend on input order).

    Sorted on the first 16 dimensions, then on a fixed projection of the whole row (rows equal on
    their first dimensions, e.g. vectors given with ``embeddings=``, are still told apart; only equal
    rows tie, and their order does not matter)."""
    x = np.asarray(x, dtype=np.float64)
    projection = np.random.default_rng(0).standard_normal(x.shape[1]) if x.ndim == 2 else np.zeros(0)
    keys = np.column_stack([np.round(x[:, :16], 4), np.round(x @ projection, 4)])
    return np.lexsort(keys.T[::-1])


def smoothed_kmeans(x: np.ndarray, *, min_topic_size: int, random_state: int = 0) -> np.ndarray:
    """Neighbour smoothing, k-means over-clustering, small clusters dissolved, close clusters merged.

    k-means runs on the rows in :func:`canonical_order` with a fixed seed: the same messages give the
    same topics in any order and with any ``random_state`` (which only picks the sample of a large
    input, in :func:`cluster_embeddings`)."""
    n = len(x)
    k = int(np.clip(round(min(np.sqrt(n), n / MIN_FINE_SIZE)), MIN_FINE, MAX_FINE))
    k = max(1, min(k, n // max(2, min_topic_size)))
    order = canonical_order(x)
    xo = x[order]
    z = neighbour_smoothed(xo)
    labels, k = _relabel(_fine_kmeans(z, k, random_state=0))
    labels, k = dissolve_small(z, labels, k, min_topic_size)
    labels, k = merge_close(xo, labels, k)
    out = np.empty(n, dtype=np.int64)
    out[order] = labels
    return out


def cluster_embeddings(x: np.ndarray, *, method: str, n_topics: int | None, min_topic_size: int,
                       n_components: int, large_threshold: int, sample_size: int,
                       random_state: int) -> Clustering:
    """Cluster ``x`` by the rule in the module docstring."""
    n = len(x)
    if method == "auto":
        if n <= large_threshold:
            return Clustering(smoothed_kmeans(x, min_topic_size=min_topic_size, random_state=random_state),
                              "smoothed-kmeans")
        rng = np.random.default_rng(random_state)
        # drawn in the canonical order: the same messages in another order give the same sample
        sample = np.sort(canonical_order(x)[rng.choice(n, size=min(n, sample_size), replace=False)])
        sub_size = max(5, int(round(min_topic_size * len(sample) / n)))
        sub = smoothed_kmeans(x[sample], min_topic_size=sub_size, random_state=random_state)
        cents = centroids_of(x[sample], sub, int(sub.max()) + 1)
        labels = np.empty(n, dtype=np.int64)
        for start in range(0, n, 8192):
            labels[start:start + 8192] = np.argmax(x[start:start + 8192] @ cents.T, axis=1)
        return Clustering(_relabel(labels)[0], "smoothed-kmeans-sample")
    if method == "kmeans":
        k = n_topics or int(np.clip(round(np.sqrt(n) / 3), 2, 60))
        return Clustering(_kmeans(x, k, random_state=random_state), "kmeans")
    labels, k = _relabel(_hdbscan(x, min_topic_size=min_topic_size, n_components=n_components,
                                  random_state=random_state))
    if k < 2:
        k_fallback = n_topics or max(2, min(10, n // 10))
        log.info("HDBSCAN found %d cluster(s) in %d messages; using k-means with %d clusters", k, n, k_fallback)
        return Clustering(_kmeans(x, k_fallback, random_state=random_state), "kmeans")
    return Clustering(labels, "hdbscan")


def parent_groups(cents: np.ndarray, *, max_parents: int) -> np.ndarray:
    """The parent of each topic (``0..p-1``): each topic is its own parent while there are at most
    ``max_parents`` topics; beyond, Ward-linkage groups of the centroids, ``max_parents`` of them.

    Ward keeps parents of similar spread: average linkage chained 62% of airline complaints into
    one parent, Ward 20% (docs/benchmarks.md)."""
    from sklearn.cluster import AgglomerativeClustering

    k = len(cents)
    if k <= max(1, int(max_parents)):
        return np.arange(k, dtype=np.int64)
    groups = AgglomerativeClustering(n_clusters=int(max_parents), linkage="ward").fit_predict(cents)
    # number parents by their first topic, so the numbering follows the topics' order
    first = {int(g): i for i, g in reversed(list(enumerate(groups)))}
    order = sorted(first, key=first.get)
    remap = {g: j for j, g in enumerate(order)}
    return np.array([remap[int(g)] for g in groups], dtype=np.int64)


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


def resolve_outliers(x: np.ndarray, labels: np.ndarray, k: int, *, min_confidence: float,
                     max_outlier_share: float):
    """Every message to its nearest centroid with a confidence; the least typical stay outliers.

    Messages below ``min_confidence`` are outliers, but at most ``max_outlier_share`` of all (the
    least typical first).  Returns ``(labels, confidence, quantiles, threshold, centroids)``:
    ``threshold`` is the confidence below which ``predict`` calls a message an outlier."""
    cents = centroids_of(x, labels, k)
    sims = x @ cents.T
    noise = labels < 0
    own = np.argmax(sims, axis=1)  # every message to its nearest centroid, as predict does
    own_sim = sims[np.arange(len(x)), own]
    quantiles = np.zeros((k, N_QUANTILES), dtype=np.float64)
    grid = np.linspace(0, 100, N_QUANTILES)
    for c in range(k):
        member_sims = sims[labels == c, c]
        quantiles[c] = np.percentile(member_sims, grid) if len(member_sims) else np.ones(N_QUANTILES)
    confidence = np.empty(len(x), dtype=np.float64)
    for c in range(k):
        rows = own == c
        confidence[rows] = typicality(own_sim[rows], quantiles[c])
    final = own.copy()
    candidates = np.flatnonzero(confidence < min_confidence)
    cap = int(np.floor(max_outlier_share * len(x)))
    order = candidates[np.lexsort((own_sim[candidates], confidence[candidates]))]
    kept, joined = order[:cap], order[cap:]
    final[kept] = -1
    threshold = float(confidence[joined].min()) if len(joined) else float(min_confidence)
    log.info("outliers: %d clustering noise, %d below min_confidence, %d kept (cap %d)",
             int(noise.sum()), len(candidates), len(kept), cap)
    return final, confidence, quantiles, threshold, cents
