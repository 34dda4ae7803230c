"""Topic discovery and assignment: clustering, a two-level hierarchy, names in plain words, seed taxonomies and
saved models."""

from __future__ import annotations

from cxlens.nlp.topics._clustering import (  # noqa: F401
    Clustering,
    auto_min_topic_size,
    centroids_of,
    cluster_embeddings,
    match_centroids,
    merge_clusters,
    merge_close,
    neighbour_smoothed,
    normalise,
    parent_groups,
    seed_refine,
    smoothed_kmeans,
    typicality,
)
from cxlens.nlp.topics._names import (  # noqa: F401
    name_topics,
    phrase_candidates,
)
from cxlens.nlp.topics._labels import (  # noqa: F401
    LABEL_SEPARATOR,
    class_tfidf_keywords,
    clean_text,
    embedding_text,
    representative_indices,
    topic_label,
)
from cxlens.nlp.topics._model import (  # noqa: F401
    OUTLIER_LABEL,
    TopicModel,
)
from cxlens.nlp.topics._seeds import (  # noqa: F401
    load_seed_topics,
)
from cxlens.nlp.topics._store import (  # noqa: F401
    FORMAT,
    load_topic_model,
    save_topic_model,
)

__all__ = [
    "Clustering",
    "FORMAT",
    "LABEL_SEPARATOR",
    "OUTLIER_LABEL",
    "TopicModel",
    "auto_min_topic_size",
    "centroids_of",
    "class_tfidf_keywords",
    "clean_text",
    "cluster_embeddings",
    "embedding_text",
    "load_seed_topics",
    "load_topic_model",
    "match_centroids",
    "merge_clusters",
    "merge_close",
    "name_topics",
    "neighbour_smoothed",
    "normalise",
    "parent_groups",
    "phrase_candidates",
    "representative_indices",
    "save_topic_model",
    "seed_refine",
    "smoothed_kmeans",
    "topic_label",
    "typicality",
]
