"""Topic discovery: cluster customer messages into topics analysts can read, track and trust.

:class:`TopicModel` follows the scikit-learn contract (keyword parameters stored as given,
``fit(X, y=None) -> self`` on texts or a :class:`~cxlens.nlp.Texts` batch, learned state ends in ``_``).  ``fit`` reads as a list
of steps:

1. **embed** -- the vectors the batch carries for the encoder (a ``Texts`` computes them once per batch for
   every component), or ``embeddings=`` given for texts embedded elsewhere; else the encoder (a name from
   :func:`cxlens.nlp.encoders._encoders.get_encoder`, or any object with ``encode``).  A named encoder
   that needs fitting (``"tfidf"``) is copied and fitted on these texts.
2. **cluster** -- HDBSCAN on PCA-reduced embeddings, or MiniBatchKMeans for large inputs; the
   rule is in :mod:`cxlens.nlp.topics._clustering`.
3. **seed** -- with ``seed_topics`` (a known taxonomy), each seed's name, description and
   examples are embedded into an initial centroid; a few k-means steps refine seeds and
   discovered clusters together.  Seed topics keep their seed label.
4. **merge** -- with ``n_topics``, clusters are merged to that number by agglomerative
   clustering of their centroids (seed topics are never merged with each other).
5. **outliers** -- every message (HDBSCAN noise included) gets its nearest topic and a
   confidence.  Messages below ``min_confidence`` are outliers (topic ``-1``), but at most
   ``max_outlier_share`` of all messages: beyond that, the least typical stay outliers and the
   others join their nearest topic.  ``predict`` applies the same cut-off, so refitting and
   predicting agree.
6. **ids** -- with ``previous`` (a saved model directory or a fitted model), new topics are
   matched to old ones by centroid cosine (Hungarian algorithm) and keep the old id and label;
   unmatched topics get fresh ids that were never used before.  Otherwise seeds come first,
   then topics by size, numbered from 0.
7. **describe** -- keywords by class-based TF-IDF, a label of the top three, and the messages
   nearest to each centroid (:mod:`cxlens.nlp.topics._labels`).

Confidence (``topic_confidence``) is *typicality*: ``min(1, 2 F(s))`` where ``s`` is the cosine
to the topic centroid and ``F`` the distribution of that cosine over the topic's core members in
``fit``.  1.0 means at least as central as the median member.

Models save to a directory of JSON and ``.npy`` files (no pickled code): :meth:`TopicModel.save`,
:meth:`TopicModel.load`.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from cxlens.errors import ConfigError, DataError, NotFittedError
from cxlens.nlp import Texts
from cxlens.nlp.topics._clustering import (
    auto_min_topic_size, centroids_of, cluster_embeddings, match_centroids, merge_clusters, normalise,
    seed_refine, typicality)
from cxlens.nlp.topics._labels import class_tfidf_keywords, embedding_text, representative_indices, topic_label
from cxlens.nlp.topics._seeds import load_seed_topics

__all__ = ["OUTLIER_LABEL", "TopicModel", "load_seed_topics"]

log = logging.getLogger(__name__)

OUTLIER_LABEL = "outlier"
_METHODS = ("auto", "kmeans", "hdbscan")
_N_EXEMPLARS = 20
_N_QUANTILES = 101


class TopicModel(BaseEstimator):
    """Discover topics in short customer messages.

    Parameters
    ----------
    n_topics : int or None
        Target number of topics; ``None`` lets the clustering decide.
    method : {"auto", "kmeans", "hdbscan"}
        Clustering; ``"auto"`` chooses by data size (see :mod:`cxlens.nlp.topics._clustering`).
    max_outlier_share : float
        At most this share of messages stays outliers (topic ``-1``); default 0.15.
    min_confidence : float
        Below this confidence a message is an outlier (within ``max_outlier_share``); 0.05 means
        less typical than 97.5% of the topic's core members.
    seed_topics : list, path or None
        A known taxonomy (see :func:`load_seed_topics`); needs an encoder.
    previous : str, Path, TopicModel or None
        A saved model directory (or a fitted model) whose topic ids should persist.
    encoder : str, object or None
        Encoder name (``"minilm"``, ``"tfidf"``...) or object with ``encode``; ``None`` means
        embeddings are always passed in.
    min_topic_size : int or None
        Smallest cluster; ``None`` = 0.4% of the messages, at least 5.
    min_match_similarity : float
        Centroid cosine needed to inherit an id from ``previous``.
    n_components, large_threshold, sample_size : int
        PCA dimensions before HDBSCAN; above ``large_threshold`` messages, HDBSCAN runs on a
        ``sample_size`` sample and MiniBatchKMeans assigns the rest.
    n_keywords, n_representatives : int
        Keywords and representative messages kept per topic.
    random_state : int

    Attributes
    ----------
    topics_ : DataFrame
        ``id, label, keywords, size, share, representative_messages, seed, previous_similarity, is_new``.
    labels_, confidence_ : ndarray
        Topic id (``-1`` outlier) and confidence of each message seen in ``fit``.
    centroids_ : ndarray (n_topics, dim)
        Normalised centroids, rows in the order of ``topics_``.
    outlier_share_ : float
    method_ : str
        The clustering that actually ran.
    """

    def __init__(self, *, n_topics: int | None = None, method: str = "auto", max_outlier_share: float = 0.15,
                 min_confidence: float = 0.05, seed_topics: Any = None, previous: Any = None, encoder: Any = None,
                 min_topic_size: int | None = None, min_match_similarity: float = 0.5, n_components: int = 5,
                 large_threshold: int = 20_000, sample_size: int = 10_000, n_keywords: int = 10,
                 n_representatives: int = 3, random_state: int = 0) -> None:
        self.n_topics = n_topics
        self.method = method
        self.max_outlier_share = max_outlier_share
        self.min_confidence = min_confidence
        self.seed_topics = seed_topics
        self.previous = previous
        self.encoder = encoder
        self.min_topic_size = min_topic_size
        self.min_match_similarity = min_match_similarity
        self.n_components = n_components
        self.large_threshold = large_threshold
        self.sample_size = sample_size
        self.n_keywords = n_keywords
        self.n_representatives = n_representatives
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> None:
        if self.method not in _METHODS:
            raise ConfigError(f"TopicModel method must be one of {', '.join(_METHODS)}; got {self.method!r}.")
        if not 0.0 <= float(self.max_outlier_share) <= 1.0:
            raise ConfigError(f"max_outlier_share must be within [0, 1]; got {self.max_outlier_share!r}.")
        if self.n_topics is not None and int(self.n_topics) < 1:
            raise ConfigError(f"n_topics must be at least 1; got {self.n_topics!r}.")

    def fit(self, X: Sequence[str] | Texts, y: None = None, *, embeddings: np.ndarray | None = None) -> TopicModel:
        """Discover topics in the texts ``X`` (a list or a :class:`~cxlens.nlp.Texts`; ``y`` is ignored).

        ``embeddings``: vectors made elsewhere (then ``encoder`` may be ``None``)."""
        self._check_params()
        batch = _as_batch(X)
        texts = batch.tolist()
        seeds = load_seed_topics(self.seed_topics)
        previous = self._previous_model()
        encoder, fitted_here = self._encoder_for(texts, need=embeddings is None or bool(seeds),
                                                 embeddings_given=embeddings is not None)
        x = _embed(batch, embeddings, encoder)
        n = len(texts)
        self.encoder_ = encoder
        self.encoder_name_ = _encoder_name(self.encoder, encoder)
        self.encoder_corpus_fitted_ = fitted_here
        self.n_features_in_ = x.shape[1]

        min_size = int(self.min_topic_size or auto_min_topic_size(n))
        log.info("clustering %d messages (%d dims)", n, x.shape[1])
        result = cluster_embeddings(x, method=self.method, n_topics=self.n_topics, min_topic_size=min_size,
                                    n_components=self.n_components, large_threshold=self.large_threshold,
                                    sample_size=self.sample_size, random_state=self.random_state)
        labels, self.method_ = result.labels, result.method
        k = int(labels.max()) + 1 if (labels >= 0).any() else 0
        n_seeds = len(seeds)
        if seeds:
            seed_vecs = self._seed_vectors(seeds, encoder)
            labels, k = seed_refine(x, labels, k, seed_vecs)
        if self.n_topics is not None and k > int(self.n_topics):
            protected = np.arange(k) < n_seeds
            labels, groups = merge_clusters(x, labels, k, int(self.n_topics), protected=protected)
            # seeds keep rows 0..s-1: renumber groups so each seed's group comes first
            order = list(dict.fromkeys([int(groups[i]) for i in range(n_seeds)] + list(range(int(self.n_topics)))))
            remap = np.empty(len(order), dtype=np.int64)
            remap[order] = np.arange(len(order))
            labels = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
            k = int(self.n_topics)
            n_seeds = len({int(groups[i]) for i in range(n_seeds)})
        if k == 0:  # everything is noise and no fallback applied: one topic
            labels, k = np.zeros(n, dtype=np.int64), 1
        labels, confidence, quantiles, threshold, cents = self._resolve_outliers(x, labels, k)
        sizes = np.bincount(labels[labels >= 0], minlength=k)
        keep = np.flatnonzero(sizes > 0)  # a centroid nearest to no message is dropped
        if len(keep) < k:
            remap = np.full(k, -1, dtype=np.int64)
            remap[keep] = np.arange(len(keep))
            labels = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
            quantiles, cents = quantiles[keep], cents[keep]
            seeds = [seeds[i] for i in keep if i < n_seeds]
            n_seeds, k = len(seeds), len(keep)
        self._finish(texts, x, labels, confidence, quantiles, cents, seeds[:n_seeds], previous, encoder)
        self.outlier_threshold_ = threshold
        return self

    def _resolve_outliers(self, x: np.ndarray, labels: np.ndarray, k: int):
        cents = centroids_of(x, labels, k)
        sims = x @ cents.T
        noise = labels < 0
        own = np.argmax(sims, axis=1)  # every message to its nearest centroid, as predict does
        own_sim = sims[np.arange(len(x)), own]
        quantiles = np.zeros((k, _N_QUANTILES), dtype=np.float64)
        grid = np.linspace(0, 100, _N_QUANTILES)
        for c in range(k):
            member_sims = sims[labels == c, c]
            quantiles[c] = np.percentile(member_sims, grid) if len(member_sims) else np.ones(_N_QUANTILES)
        confidence = np.empty(len(x), dtype=np.float64)
        for c in range(k):
            rows = own == c
            confidence[rows] = typicality(own_sim[rows], quantiles[c])
        final = own.copy()
        candidates = np.flatnonzero(confidence < float(self.min_confidence))
        cap = int(np.floor(float(self.max_outlier_share) * len(x)))
        order = candidates[np.lexsort((own_sim[candidates], confidence[candidates]))]
        kept, joined = order[:cap], order[cap:]
        final[kept] = -1
        if len(joined):
            threshold = float(confidence[joined].min())
        else:
            threshold = float(self.min_confidence)
        log.info("outliers: %d clustering noise, %d below min_confidence, %d kept (cap %d)",
                 int(noise.sum()), len(candidates), len(kept), cap)
        return final, confidence, quantiles, threshold, cents

    def _finish(self, texts, x, labels, confidence, quantiles, cents, seeds, previous, encoder) -> None:
        """Ids (previous / seeds / size), keywords, labels and representatives.

        ``cents`` are the centroids of the clusters' core members (before outliers joined), the
        ones ``predict`` uses, so fitting and predicting agree.
        """
        k = len(cents)
        sizes = np.bincount(labels[labels >= 0], minlength=k)
        n_seeds = len(seeds)
        order = list(range(n_seeds)) + sorted(range(n_seeds, k), key=lambda c: (-sizes[c], c))
        ids = np.full(k, -1, dtype=np.int64)
        names: dict[int, str] = {c: seeds[c]["label"] for c in range(n_seeds)}
        prev_sim = np.full(k, np.nan)
        next_id = 0
        if previous is not None:
            old_cents = self._previous_centroids(previous, encoder)
            old_ids = previous.topics_["id"].to_numpy()
            old_labels = previous.topics_["label"].tolist()
            taken: set[int] = set()
            for c in range(n_seeds):  # seeds keep the id of the old topic with their label
                if names[c] in old_labels:
                    j = old_labels.index(names[c])
                    ids[c], prev_sim[c] = old_ids[j], float(cents[c] @ old_cents[j])
                    taken.add(j)
            free_new = [c for c in range(k) if ids[c] < 0]
            free_old = [j for j in range(len(old_ids)) if j not in taken]
            pairs = match_centroids(cents[free_new], old_cents[free_old],
                                    min_similarity=float(self.min_match_similarity))
            for r, (j, sim) in pairs.items():
                c, old = free_new[r], free_old[j]
                ids[c], prev_sim[c] = old_ids[old], sim
                if c >= n_seeds:
                    names[c] = old_labels[old]
            next_id = int(previous.next_id_)
        for c in order:
            if ids[c] < 0:
                ids[c] = next_id
                next_id += 1
            else:
                next_id = max(next_id, int(ids[c]) + 1)
        keywords = class_tfidf_keywords(texts, labels, n_keywords=int(self.n_keywords))
        rows = []
        texts_arr = np.asarray(texts, dtype=object)
        for c in order:
            members = np.flatnonzero(labels == c)
            words = [w for w, _ in keywords.get(c, [])]
            reps = representative_indices(x, cents[c], members, texts, n=max(int(self.n_representatives), _N_EXEMPLARS))
            rows.append({
                "id": int(ids[c]), "label": names.get(c) or topic_label(words, fallback=f"topic {ids[c]}"),
                "keywords": words, "keyword_weights": [w for _, w in keywords.get(c, [])],
                "size": int(sizes[c]), "share": float(sizes[c] / len(texts)),
                "representative_messages": [str(t) for t in texts_arr[reps[: int(self.n_representatives)]]],
                "exemplars": [str(t) for t in texts_arr[reps]],
                "seed": c < n_seeds, "previous_similarity": prev_sim[c],
                "is_new": previous is not None and np.isnan(prev_sim[c]),
            })
        _dedupe_labels(rows)
        self.topics_ = pd.DataFrame(rows)
        self.centroids_ = cents[order].astype(np.float32)
        self.similarity_quantiles_ = quantiles[order]
        id_of = np.append(ids, -1)  # index -1 -> outlier
        self.labels_ = id_of[labels]
        self.confidence_ = confidence
        self.outlier_share_ = float(np.mean(labels < 0))
        self.next_id_ = int(next_id)
        self.previous_ids_missing_ = (sorted(set(previous.topics_["id"]) - set(ids.tolist()))
                                      if previous is not None else [])

    # ------------------------------------------------------------------ helpers of fit

    def _encoder_for(self, texts: list[str], *, need: bool, embeddings_given: bool = False):
        """The encoder to use and whether its space is specific to a corpus (fitted)."""
        if self.encoder is None:
            if need:
                raise ConfigError("TopicModel needs embeddings= or an encoder (e.g. encoder='minilm' or 'tfidf'); "
                                  "seed topics always need an encoder.")
            return None, False
        if isinstance(self.encoder, str):
            from cxlens.nlp.encoders import get_encoder

            shared = get_encoder(self.encoder)
            if hasattr(shared, "fit") and need and embeddings_given:
                raise ConfigError(f"The {self.encoder!r} encoder is fitted per corpus: with embeddings=, pass the "
                                  "fitted encoder object that made them (encoder=<object>), not its name.")
            if hasattr(shared, "fit") and need:
                log.info("fitting a %s encoder on %d texts", self.encoder, len(texts))
                return copy.deepcopy(shared).fit(texts), True
            return shared, False
        # an encoder object that can be fitted has a space that depends on its corpus
        return self.encoder, hasattr(self.encoder, "fit")

    def _seed_vectors(self, seeds: list[dict[str, Any]], encoder) -> np.ndarray:
        vectors = []
        for seed in seeds:
            head = f"{seed['label']}: {seed['description']}" if seed["description"] else seed["label"]
            vecs = np.asarray(encoder.encode([embedding_text(t) for t in [head] + seed["examples"]]),
                              dtype=np.float32)
            vectors.append(vecs.mean(axis=0))
        return normalise(np.vstack(vectors))

    def _previous_model(self) -> TopicModel | None:
        if self.previous is None:
            return None
        if isinstance(self.previous, TopicModel):
            if not hasattr(self.previous, "topics_"):
                raise NotFittedError(self.previous)
            return self.previous
        return TopicModel.load(self.previous)

    def _previous_centroids(self, previous: TopicModel, encoder) -> np.ndarray:
        """The old topics' centroids in the current embedding space."""
        same = (previous.encoder_name_ == self.encoder_name_ and not previous.encoder_corpus_fitted_
                and not self.encoder_corpus_fitted_ and previous.n_features_in_ == self.n_features_in_)
        if same:
            return previous.centroids_
        if encoder is None:
            raise ConfigError(f"The previous model was made with encoder {previous.encoder_name_!r} and this run "
                              f"with {self.encoder_name_!r}; pass an encoder so its topics can be re-embedded.")
        log.info("re-embedding the previous model's exemplars in this run's space")
        cents = [normalise(np.asarray(encoder.encode([embedding_text(t) for t in (list(ex) or [lab])]),
                                      dtype=np.float32)).mean(axis=0)
                 for ex, lab in zip(previous.topics_["exemplars"], previous.topics_["label"])]
        return normalise(np.vstack(cents))

    # ------------------------------------------------------------------ predict

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise NotFittedError(self)

    def text_encoder(self):
        """The encoder whose vectors this model reads (``None``: it reads the ``embeddings=`` it is given)."""
        encoder = getattr(self, "encoder_", None)
        if encoder is None and not getattr(self, "encoder_corpus_fitted_", False):
            encoder, _ = self._encoder_for([], need=False)
        return encoder

    def transform(self, X: Sequence[str] | Texts | None = None, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Cosine similarity of each message to each topic centroid, shape ``(n, n_topics)``."""
        self._check_fitted()
        texts = X
        if embeddings is None and texts is not None and not isinstance(texts, str) and not len(texts):
            return np.zeros((0, len(self.centroids_)), dtype=np.float32)  # an empty batch: no rows
        if embeddings is None:
            if texts is None:
                raise ConfigError("Pass texts or embeddings.")
            encoder = getattr(self, "encoder_", None)
            if encoder is None and self.encoder_corpus_fitted_:
                raise ConfigError(f"This model was fitted with a corpus-fitted {self.encoder_name_!r} encoder that "
                                  "is not saved; pass embeddings= or refit (use encoder='minilm' for reusable models).")
            if encoder is None:
                encoder, _ = self._encoder_for([], need=False)
            x = _embed(_as_batch(texts), None, encoder)
        else:
            x = _embed(None if texts is None else _as_batch(texts), embeddings, None)
        if x.shape[1] != self.n_features_in_:
            raise DataError(f"Embeddings have {x.shape[1]} dimensions; this model expects {self.n_features_in_}.")
        return x @ self.centroids_.T

    def assign(self, X: Sequence[str] | Texts | None = None, *, embeddings: np.ndarray | None = None) -> pd.DataFrame:
        """``topic_id``, ``topic`` (label) and ``topic_confidence`` for each message."""
        sims = self.transform(X, embeddings=embeddings)
        if not len(sims):
            return pd.DataFrame({"topic_id": pd.Series(dtype="int64"), "topic": pd.Series(dtype=object),
                                 "topic_confidence": pd.Series(dtype="float64")})
        rows = np.argmax(sims, axis=1)
        conf = np.empty(len(sims))
        for r in range(len(self.centroids_)):
            mask = rows == r
            conf[mask] = typicality(sims[mask, r], self.similarity_quantiles_[r])
        ids = self.topics_["id"].to_numpy()[rows]
        ids = np.where(conf < self.outlier_threshold_, -1, ids)
        return pd.DataFrame({"topic_id": ids, "topic": self.topic_names(ids), "topic_confidence": conf})

    def predict(self, X: Sequence[str] | Texts | None = None, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Topic id of each message (``-1`` for outliers)."""
        return self.assign(X, embeddings=embeddings)["topic_id"].to_numpy()

    def predict_proba(self, X: Sequence[str] | Texts | None = None, *,
                      embeddings: np.ndarray | None = None) -> np.ndarray:
        """Each message's similarity to each topic, scaled to sum to 1 (a soft assignment, not calibrated)."""
        sims = np.clip(self.transform(X, embeddings=embeddings), 0.0, None) + 1e-9
        return sims / sims.sum(axis=1, keepdims=True)

    def annotate(self, X: Sequence[str] | Texts) -> pd.DataFrame:
        """What a :class:`~cxlens.nlp.TextPipeline` attaches: ``label`` (topic name), ``id``, ``confidence``."""
        frame = self.assign(X)
        return pd.DataFrame({"label": frame["topic"].to_numpy(), "id": frame["topic_id"].to_numpy(),
                             "confidence": frame["topic_confidence"].to_numpy()})

    def topic_names(self, ids: Sequence[int]) -> list[str]:
        """Labels for topic ids (``"outlier"`` for -1)."""
        self._check_fitted()
        names = dict(zip(self.topics_["id"].tolist(), self.topics_["label"].tolist()))
        names[-1] = OUTLIER_LABEL
        return [names[int(i)] for i in ids]

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to directory ``path`` (JSON + .npy; no pickle)."""
        from cxlens.nlp.topics._store import save_topic_model

        self._check_fitted()
        return save_topic_model(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> TopicModel:
        """A model saved by :meth:`save` (predicts with the encoder named in it)."""
        from cxlens.nlp.topics._store import load_topic_model

        return load_topic_model(cls, Path(path))


def _dedupe_labels(rows: list[dict[str, Any]]) -> None:
    """Two topics with the same label: extend the later one with its next keywords."""
    seen: set[str] = set()
    for row in rows:
        label = row["label"]
        extra = iter(row["keywords"][3:])
        while label in seen:
            nxt = next(extra, None)
            label = f"{label} / {nxt}" if nxt else f"{label} ({row['id']})"
        row["label"] = label
        seen.add(label)


def _as_batch(X) -> Texts:
    if X is None:
        raise DataError("No texts given.")
    if isinstance(X, str):
        raise DataError("Pass a list of texts, not one string.")
    return Texts.of(X)


def _embed(texts: Texts | None, embeddings: np.ndarray | None, encoder) -> np.ndarray:
    if embeddings is not None:
        x = np.asarray(embeddings, dtype=np.float32)
        if x.ndim != 2:
            raise DataError(f"embeddings must be a 2-d array (messages x dims); got shape {x.shape}.")
        if texts is not None and len(texts) != len(x):
            raise DataError(f"{len(texts)} texts but {len(x)} embedding rows.")
        return normalise(x)
    if not texts:
        raise DataError("No texts to model: the input is empty.")
    return normalise(texts.map(embedding_text).vectors(encoder))


def _encoder_name(param: Any, encoder: Any) -> str | None:
    if isinstance(param, str):
        return param
    if encoder is None:
        return None
    return str(getattr(encoder, "name", type(encoder).__name__))
