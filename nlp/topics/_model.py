"""Topic discovery: cluster customer messages into topics analysts can read, track and trust.

:class:`TopicModel` follows the scikit-learn contract (keyword parameters stored as given,
``fit(X, y=None) -> self`` on texts or a :class:`~cxlens.nlp.Texts` batch, learned state ends in ``_``).  ``fit`` reads as a list
of steps:

1. **embed** -- the vectors the batch carries for the encoder (a ``Texts`` computes them once per batch for
   every component), or ``embeddings=`` given for texts embedded elsewhere; else the encoder (a name from
   :func:`cxlens.nlp.encoders._encoders.get_encoder`, or any object with ``encode``).  A named encoder
   that needs fitting (``"tfidf"``) is copied and fitted on these texts.
2. **cluster** -- neighbour-smoothed k-means over-clustering, small clusters dissolved, close
   clusters merged (on a sample, then nearest centroid, for large inputs); the rule is in
   :mod:`cxlens.nlp.topics._clustering`.
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
7. **describe** -- a name in plain words (a key phrase from the topic's messages,
   :mod:`cxlens.nlp.topics._names`; ``label`` is the same text), keywords by class-based TF-IDF,
   and the messages nearest to each centroid (:mod:`cxlens.nlp.topics._labels`).
8. **hierarchy** -- beyond ``max_parents`` topics, topics are grouped into at most ``max_parents``
   top-level topics with names of their own (:mod:`cxlens.nlp.topics._hierarchy`).

:meth:`TopicModel.assign` gives each message its topic, the topic's top-level topic
(``topic_parent_id``, ``topic_parent``) and, when it clearly has one, a second topic under another
top-level topic (``topic_secondary_id``, ``topic_secondary``; ``-1`` and null otherwise).

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
    auto_min_topic_size, canonical_order, cluster_embeddings, match_centroids, merge_clusters, normalise,
    resolve_outliers,
    seed_refine, typicality)
from cxlens.nlp.topics._hierarchy import build_parents, secondary_topics
from cxlens.nlp.topics._inputs import as_batch, dedupe_labels, embed, encoder_name
from cxlens.nlp.topics._labels import class_tfidf_keywords, embedding_text, representative_indices, topic_label
from cxlens.nlp.topics._names import name_topics
from cxlens.nlp.topics._seeds import load_seed_topics

__all__ = ["OUTLIER_LABEL", "TopicModel", "load_seed_topics"]

log = logging.getLogger(__name__)

OUTLIER_LABEL = "outlier"
_METHODS = ("auto", "kmeans", "hdbscan")
_N_EXEMPLARS = 20


class TopicModel(BaseEstimator):
    """Discover topics in short customer messages.

    Parameters
    ----------
    n_topics : int or None
        Target number of topics; ``None`` lets the clustering decide.
    method : {"auto", "kmeans", "hdbscan"}
        Clustering; ``"auto"`` chooses by data size (see :mod:`cxlens.nlp.topics._clustering`).
    max_outlier_share : float
        At most this share of messages stays outliers (topic ``-1``); default 0.10.
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
        PCA dimensions before HDBSCAN (``method="hdbscan"``); above ``large_threshold`` messages the
        clustering runs on a ``sample_size`` sample and every message joins its nearest topic.
    n_keywords, n_representatives : int
        Keywords and representative messages kept per topic.
    max_parents : int
        At most this many top-level topics (default 20).
    secondary_min_confidence : float
        A message's second topic must have at least this confidence (default 0.5) and be almost as near as
        its first (see :mod:`cxlens.nlp.topics._hierarchy`).
    random_state : int

    Attributes
    ----------
    topics_ : DataFrame
        ``id, label, name, keywords, size, share, representative_messages, seed, previous_similarity, is_new,
        parent_id, parent, level`` (``level``: ``"subtopic"`` under a parent, ``"topic"`` on its own).
    parents_ : DataFrame
        Top-level topics holding two or more topics: ``id, label, name, keywords, size, share,
        representative_messages, children``; ``parent_centroids_`` their centroids.
    secondary_labels_ : ndarray
        Second topic id of each message seen in ``fit`` (``-1``: none).
    labels_, confidence_ : ndarray
        Topic id (``-1`` outlier) and confidence of each message seen in ``fit``.
    centroids_ : ndarray (n_topics, dim)
        Normalised centroids, rows in the order of ``topics_``.
    outlier_share_ : float
    method_ : str
        The clustering that actually ran.
    """

    def __init__(self, *, n_topics: int | None = None, method: str = "auto", max_outlier_share: float = 0.10,
                 min_confidence: float = 0.05, seed_topics: Any = None, previous: Any = None, encoder: Any = None,
                 min_topic_size: int | None = None, min_match_similarity: float = 0.5, n_components: int = 5,
                 large_threshold: int = 20_000, sample_size: int = 20_000, n_keywords: int = 10,
                 n_representatives: int = 3, max_parents: int = 20, secondary_min_confidence: float = 0.5,
                 random_state: int = 0) -> None:
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
        self.max_parents = max_parents
        self.secondary_min_confidence = secondary_min_confidence
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> None:
        if self.method not in _METHODS:
            raise ConfigError(f"TopicModel method must be one of {', '.join(_METHODS)}; got {self.method!r}.")
        if not 0.0 <= float(self.max_outlier_share) <= 1.0:
            raise ConfigError(f"max_outlier_share must be within [0, 1]; got {self.max_outlier_share!r}.")
        if self.n_topics is not None and int(self.n_topics) < 1:
            raise ConfigError(f"n_topics must be at least 1; got {self.n_topics!r}.")
        if int(self.max_parents) < 1:
            raise ConfigError(f"max_parents must be at least 1; got {self.max_parents!r}.")

    def fit(self, X: Sequence[str] | Texts, y: None = None, *, embeddings: np.ndarray | None = None) -> TopicModel:
        """Discover topics in the texts ``X`` (a list or a :class:`~cxlens.nlp.Texts`; ``y`` is ignored).

        ``embeddings``: vectors made elsewhere (then ``encoder`` may be ``None``)."""
        self._check_params()
        batch = as_batch(X)
        texts = batch.tolist()
        seeds = load_seed_topics(self.seed_topics)
        previous = self._previous_model()
        encoder, fitted_here = self._encoder_for(texts, need=embeddings is None or bool(seeds),
                                                 embeddings_given=embeddings is not None)
        x = embed(batch, embeddings, encoder)
        n = len(texts)
        self.encoder_ = encoder
        self.encoder_name_ = encoder_name(self.encoder, encoder)
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
        return resolve_outliers(x, labels, k, min_confidence=float(self.min_confidence),
                                max_outlier_share=float(self.max_outlier_share))

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
        fallbacks = [topic_label([w for w, _ in keywords.get(c, [])], n=1, fallback=f"Topic {ids[c]}") for c in order]
        to_name = [c for c in order if c not in names]
        name_rows = self._name_rows(x)
        phrases = name_topics([texts[i] for i in name_rows], labels[name_rows], to_name, centroids=cents[to_name],
                              encoder=encoder, taken=list(names.values()),
                              fallbacks=[fallbacks[order.index(c)] for c in to_name])
        names.update(zip(to_name, phrases))
        rows = []
        texts_arr = np.asarray(texts, dtype=object)
        for c in order:
            members = np.flatnonzero(labels == c)
            words = [w for w, _ in keywords.get(c, [])]
            reps = representative_indices(x, cents[c], members, texts, n=max(int(self.n_representatives), _N_EXEMPLARS))
            rows.append({
                "id": int(ids[c]), "label": names[c], "name": names[c],
                "keywords": words, "keyword_weights": [w for _, w in keywords.get(c, [])],
                "size": int(sizes[c]), "share": float(sizes[c] / len(texts)),
                "representative_messages": [str(t) for t in texts_arr[reps[: int(self.n_representatives)]]],
                "exemplars": [str(t) for t in texts_arr[reps]],
                "seed": c < n_seeds, "previous_similarity": prev_sim[c],
                "is_new": previous is not None and np.isnan(prev_sim[c]),
            })
        dedupe_labels(rows)
        topics = pd.DataFrame(rows)
        topics["name"] = topics["label"]
        self.centroids_ = cents[order].astype(np.float32)
        self.similarity_quantiles_ = quantiles[order]
        position = np.empty(k, dtype=np.int64)
        position[order] = np.arange(k)
        row_labels = np.where(labels >= 0, position[np.maximum(labels, 0)], -1)
        self.parents_, self.parent_centroids_, parent_of_row, next_id = build_parents(
            texts, x, row_labels, topics, self.centroids_, max_parents=int(self.max_parents), next_id=next_id,
            encoder=encoder, previous=previous, min_match_similarity=float(self.min_match_similarity),
            n_keywords=int(self.n_keywords), n_representatives=int(self.n_representatives), name_rows=name_rows)
        parent_names = dict(zip(self.parents_["id"].tolist(), self.parents_["label"].tolist()))
        topics["parent_id"] = parent_of_row
        topics["parent"] = [parent_names.get(int(p), lab) for p, lab in zip(parent_of_row, topics["label"])]
        topics["level"] = np.where(parent_of_row == topics["id"].to_numpy(), "topic", "subtopic")
        self.topics_ = topics
        id_of = np.append(ids, -1)  # index -1 -> outlier
        sims = x @ self.centroids_.T
        first = np.where(row_labels >= 0, row_labels, np.argmax(sims, axis=1))  # the topic each message was given
        second, _ = secondary_topics(sims, first, self.similarity_quantiles_, parent_of_row,
                                     min_confidence=float(self.secondary_min_confidence))
        self.secondary_labels_ = np.where((second >= 0) & (row_labels >= 0),
                                          topics["id"].to_numpy()[np.maximum(second, 0)], -1)
        self.labels_ = id_of[labels]
        self.confidence_ = confidence
        self.outlier_share_ = float(np.mean(labels < 0))
        self.next_id_ = int(next_id)
        self.previous_ids_missing_ = (sorted(set(previous.topics_["id"]) - set(ids.tolist()))
                                      if previous is not None else [])

    # ------------------------------------------------------------------ helpers of fit

    def _name_rows(self, x: np.ndarray) -> np.ndarray:
        """The messages read for names: all, or a fixed sample of ``sample_size`` above ``large_threshold``
        (drawn in the canonical row order, so it does not depend on the input order)."""
        n = len(x)
        if n <= int(self.large_threshold):
            return np.arange(n)
        rng = np.random.default_rng(self.random_state)
        return np.sort(canonical_order(x)[rng.choice(n, size=min(n, int(self.sample_size)), replace=False)])

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
            x = embed(as_batch(texts), None, encoder)
        else:
            x = embed(None if texts is None else as_batch(texts), embeddings, None)
        if x.shape[1] != self.n_features_in_:
            raise DataError(f"Embeddings have {x.shape[1]} dimensions; this model expects {self.n_features_in_}.")
        return x @ self.centroids_.T

    def assign(self, X: Sequence[str] | Texts | None = None, *, embeddings: np.ndarray | None = None) -> pd.DataFrame:
        """For each message: ``topic_id``, ``topic`` (name), ``topic_confidence``, its top-level topic
        ``topic_parent_id``, ``topic_parent`` (the topic itself when it has no parent), and a second topic
        ``topic_secondary_id``, ``topic_secondary``, ``topic_secondary_confidence`` when it clearly has one
        (``-1``, null and 0.0 otherwise).  Outliers: ``-1`` / ``"outlier"`` for topic and parent."""
        sims = self.transform(X, embeddings=embeddings)
        if not len(sims):
            return pd.DataFrame({"topic_id": pd.Series(dtype="int64"), "topic": pd.Series(dtype=object),
                                 "topic_confidence": pd.Series(dtype="float64"),
                                 "topic_parent_id": pd.Series(dtype="int64"), "topic_parent": pd.Series(dtype=object),
                                 "topic_secondary_id": pd.Series(dtype="int64"),
                                 "topic_secondary": pd.Series(dtype=object),
                                 "topic_secondary_confidence": pd.Series(dtype="float64")})
        rows = np.argmax(sims, axis=1)
        conf = np.empty(len(sims))
        for r in range(len(self.centroids_)):
            mask = rows == r
            conf[mask] = typicality(sims[mask, r], self.similarity_quantiles_[r])
        topic_ids = self.topics_["id"].to_numpy()
        outlier = conf < self.outlier_threshold_
        ids = np.where(outlier, -1, topic_ids[rows])
        parent_of_row = self.parent_of_rows()
        parent_ids = np.where(outlier, -1, parent_of_row[rows])
        second, second_conf = secondary_topics(sims, rows, self.similarity_quantiles_, parent_of_row,
                                               min_confidence=float(self.secondary_min_confidence))
        second = np.where(outlier, -1, second)
        second_ids = np.where(second >= 0, topic_ids[np.maximum(second, 0)], -1)
        second_names = np.array(self.topic_names(second_ids), dtype=object)
        second_names[second_ids < 0] = None
        return pd.DataFrame({"topic_id": ids, "topic": self.topic_names(ids), "topic_confidence": conf,
                             "topic_parent_id": parent_ids, "topic_parent": self.topic_names(parent_ids),
                             "topic_secondary_id": second_ids, "topic_secondary": second_names,
                             "topic_secondary_confidence": np.where(second_ids >= 0, second_conf, 0.0)})

    def parent_of_rows(self) -> np.ndarray:
        """The top-level topic id of each row of ``topics_`` (itself for a model saved before parents)."""
        if "parent_id" in self.topics_:
            return self.topics_["parent_id"].to_numpy().astype(np.int64)
        return self.topics_["id"].to_numpy().astype(np.int64)

    def predict(self, X: Sequence[str] | Texts | None = None, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Topic id of each message (``-1`` for outliers)."""
        return self.assign(X, embeddings=embeddings)["topic_id"].to_numpy()

    def predict_proba(self, X: Sequence[str] | Texts | None = None, *,
                      embeddings: np.ndarray | None = None) -> np.ndarray:
        """Each message's similarity to each topic, scaled to sum to 1 (a soft assignment, not calibrated)."""
        sims = np.clip(self.transform(X, embeddings=embeddings), 0.0, None) + 1e-9
        return sims / sims.sum(axis=1, keepdims=True)

    def annotate(self, X: Sequence[str] | Texts) -> pd.DataFrame:
        """What a :class:`~cxlens.nlp.TextPipeline` attaches: ``label`` (topic name), ``id``, ``confidence``,
        ``parent_id``, ``parent``, ``secondary_id``, ``secondary`` (see :meth:`assign`)."""
        frame = self.assign(X)
        return pd.DataFrame({"label": frame["topic"].to_numpy(), "id": frame["topic_id"].to_numpy(),
                             "confidence": frame["topic_confidence"].to_numpy(),
                             "parent_id": frame["topic_parent_id"].to_numpy(),
                             "parent": frame["topic_parent"].to_numpy(),
                             "secondary_id": frame["topic_secondary_id"].to_numpy(),
                             "secondary": frame["topic_secondary"].to_numpy()})

    def topic_names(self, ids: Sequence[int]) -> list[str]:
        """Names for topic ids, top-level parents included (``"outlier"`` for -1)."""
        self._check_fitted()
        names = dict(zip(self.topics_["id"].tolist(), self.topics_["label"].tolist()))
        parents = getattr(self, "parents_", None)
        if parents is not None and len(parents):
            names.update(zip(parents["id"].tolist(), parents["label"].tolist()))
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
