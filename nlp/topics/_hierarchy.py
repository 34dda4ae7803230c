"""The two levels of a :class:`~cxlens.nlp.topics._model.TopicModel` and the second topic of a message.

**Hierarchy.**  Messages are assigned to *topics* (the fine level, ``TopicModel.topics_``).  While
there are at most ``max_parents`` of them, each is its own top-level topic.  Beyond, the topics
are grouped by Ward linkage of their centroids into ``max_parents`` *parents*
(:func:`~cxlens.nlp.topics._clustering.parent_groups`).  A parent holding two or more topics is a
top-level topic of its own (its own id, name, keywords, representatives; ``TopicModel.parents_``),
and its topics are its *subtopics*; a parent holding one topic is that topic.

**Second topic.**  A message clearly has a second topic when its nearest topic under another
top-level topic is (a) almost as near as its first topic (cosine at most ``SECONDARY_MARGIN`` lower)
and (b) a topic the message is typical of: its confidence (typicality, see
:func:`~cxlens.nlp.topics._clustering.typicality`) there is at least ``secondary_min_confidence``
(default 0.5: closer to the centroid than a quarter of the topic's own members).  Two neighbouring
subtopics of one parent are one subject said two ways, not two subjects.  Measured: 1.1 % of
BANKING77 queries (one intent each) get a second topic, 10 % of airline complaints (often two
grievances in one tweet); without the margin it was 10 % and 42 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cxlens.nlp.topics._clustering import normalise, parent_groups, typicality
from cxlens.nlp.topics._labels import class_tfidf_keywords, representative_indices, topic_label
from cxlens.nlp.topics._names import name_topics

__all__ = ["PARENT_COLUMNS", "build_parents", "secondary_topics", "single_parents"]

#: the second topic's cosine may be at most this much lower than the first topic's
SECONDARY_MARGIN = 0.03
PARENT_COLUMNS = ["id", "label", "name", "keywords", "size", "share", "representative_messages", "children"]


def build_parents(texts: Sequence[str], x: np.ndarray, row_labels: np.ndarray, topics: pd.DataFrame,
                  centroids: np.ndarray, *, max_parents: int, next_id: int, encoder: Any = None,
                  previous: Any = None, min_match_similarity: float = 0.5, n_keywords: int = 10,
                  n_representatives: int = 3, name_rows: np.ndarray | None = None
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, int]:
    """``(parents, parent_centroids, parent_id_of_each_topic_row, next_id)``.

    ``row_labels[i]`` is the row of ``topics`` (and ``centroids``) message ``i`` belongs to (``-1``
    outlier).  Only parents with two or more topics get rows in ``parents``; ``name_rows``
    (message indices) limits the messages read for names and keywords (large inputs).
    """
    from cxlens.nlp.topics._clustering import match_centroids

    k = len(topics)
    groups = parent_groups(np.asarray(centroids, dtype=np.float64), max_parents=int(max_parents))
    sizes = topics["size"].to_numpy()
    multi = [g for g in range(int(groups.max()) + 1 if k else 0) if (groups == g).sum() > 1]
    parent_of_row = topics["id"].to_numpy().astype(np.int64).copy()
    if not multi:
        return pd.DataFrame(columns=PARENT_COLUMNS), np.zeros((0, centroids.shape[1]), np.float32), parent_of_row, next_id
    cents = np.vstack([(centroids[groups == g] * sizes[groups == g, None]).sum(axis=0) for g in multi])
    cents = normalise(cents)
    ids = np.full(len(multi), -1, dtype=np.int64)
    old_names: dict[int, str] = {}
    if previous is not None and len(getattr(previous, "parents_", [])):
        pairs = match_centroids(cents, np.asarray(previous.parent_centroids_, dtype=np.float32),
                                min_similarity=float(min_match_similarity))
        for r, (j, _) in pairs.items():
            ids[r] = int(previous.parents_["id"].iloc[j])
            old_names[r] = str(previous.parents_["label"].iloc[j])
    for r in range(len(multi)):
        if ids[r] < 0:
            ids[r] = next_id
            next_id += 1
    group_index = {g: r for r, g in enumerate(multi)}
    member_parent = np.array([group_index.get(int(groups[c]), -1) for c in range(k)] + [-1], dtype=np.int64)
    parent_labels = member_parent[row_labels]  # -1 outlier (row -1) or a topic without subtopics
    rows = np.arange(len(texts)) if name_rows is None else np.asarray(name_rows)
    sub_texts = [texts[i] for i in rows]
    keywords = class_tfidf_keywords(sub_texts, parent_labels[rows], n_keywords=int(n_keywords))
    fallbacks = [topic_label([w for w, _ in keywords.get(r, [])], n=1, fallback=f"Topic {ids[r]}")
                 for r in range(len(multi))]
    names = name_topics(sub_texts, parent_labels[rows], list(range(len(multi))), centroids=cents, encoder=encoder,
                        taken=topics["label"].tolist(), fallbacks=fallbacks)
    texts_arr = np.asarray(texts, dtype=object)
    records = []
    for r, g in enumerate(multi):
        children = topics["id"].to_numpy()[groups == g]
        parent_of_row[groups == g] = ids[r]
        members = np.flatnonzero(parent_labels == r)
        reps = representative_indices(x, cents[r], members, texts, n=int(n_representatives))
        name = old_names.get(r) or names[r]
        records.append({"id": int(ids[r]), "label": name, "name": name,
                        "keywords": [w for w, _ in keywords.get(r, [])], "size": int(sizes[groups == g].sum()),
                        "share": float(sizes[groups == g].sum() / max(len(texts), 1)),
                        "representative_messages": [str(t) for t in texts_arr[reps]],
                        "children": [int(c) for c in children]})
    _unique_names(records, set(topics["label"]))
    return pd.DataFrame(records, columns=PARENT_COLUMNS), cents.astype(np.float32), parent_of_row, next_id


def _unique_names(records: list[dict[str, Any]], taken: set[str]) -> None:
    """A parent name that repeats a topic's or another parent's (kept from ``previous``) gets a suffix."""
    seen = {t.lower() for t in taken}
    for rec in records:
        name, extra = rec["label"], 2
        while name.lower() in seen:
            name, extra = f"{rec['label']} ({extra})", extra + 1
        rec["label"] = rec["name"] = name
        seen.add(name.lower())


def single_parents(topics: pd.DataFrame) -> np.ndarray:
    """Each topic its own parent (a model saved before the hierarchy existed)."""
    return topics["id"].to_numpy().astype(np.int64)


def secondary_topics(sims: np.ndarray, first: np.ndarray, quantiles: np.ndarray, parent_of_row: np.ndarray, *,
                     min_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """``(row, confidence)`` of each message's second topic (row ``-1`` when it has none).

    ``sims``: cosine to each topic (messages x topics); ``first``: the row of the first topic."""
    n, k = sims.shape
    rows = np.full(n, -1, dtype=np.int64)
    conf = np.zeros(n, dtype=np.float64)
    if k < 2 or not n:
        return rows, conf
    masked = sims.copy()
    masked[np.arange(n), first] = -np.inf
    # the best topic under another parent than the first topic's
    masked[parent_of_row[None, :] == parent_of_row[first][:, None]] = -np.inf
    second = np.argmax(masked, axis=1)
    valid = np.isfinite(masked[np.arange(n), second])
    for r in np.unique(second[valid]):
        sel = valid & (second == r)
        conf[sel] = typicality(sims[sel, r], quantiles[r])
    gap = sims[np.arange(n), first] - sims[np.arange(n), second]
    chosen = valid & (conf >= float(min_confidence)) & (gap <= SECONDARY_MARGIN)
    rows[chosen] = second[chosen]
    conf[~chosen] = 0.0
    return rows, conf
