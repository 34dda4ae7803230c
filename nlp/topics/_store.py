"""Saving and loading :class:`~cxlens.nlp.topics._model.TopicModel` as plain files (no pickled code).

A model directory holds::

    topic_model.json           format, version, parameters, encoder name, fitted scalars
    topics.json                one record per topic: id, label, keywords (+ weights), size, share,
                               representative messages, exemplars (used to re-embed the topic
                               when a later run uses another embedding space), seed flag
    centroids.npy              float32 (n_topics, dim), rows in the order of topics.json
    similarity_quantiles.npy   float64 (n_topics, 101): each topic's member-similarity percentiles
    parents.json               (version 2) top-level topics holding two or more topics: id, label, name,
                               keywords, size, share, representative messages, children (topic ids)
    parent_centroids.npy       (version 2) float32 (n_parents, dim), rows in the order of parents.json

A version-1 folder (written before the hierarchy) still loads: every topic is its own top-level
topic.  ``topics.json`` of version 2 also carries ``name``, ``parent_id``, ``parent`` and ``level``.

Everything loads with ``json`` and ``np.load(allow_pickle=False)``.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlens.errors import ConfigError

__all__ = ["FORMAT", "load_topic_model", "save_topic_model"]

FORMAT = "cxlens.topic_model"
VERSION = 2
_PARAMS_SAVED = ("n_topics", "method", "max_outlier_share", "min_confidence", "min_topic_size",
                 "min_match_similarity", "n_components", "large_threshold", "sample_size", "n_keywords",
                 "n_representatives", "max_parents", "secondary_min_confidence", "random_state")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def save_topic_model(model, path: Path) -> Path:
    from cxlens.nlp.topics._seeds import load_seed_topics

    path.mkdir(parents=True, exist_ok=True)
    params = {name: getattr(model, name) for name in _PARAMS_SAVED}
    params["seed_topics"] = load_seed_topics(model.seed_topics)
    params["encoder"] = model.encoder_name_
    previous = model.previous
    meta = {
        "format": FORMAT, "version": VERSION, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "params": params,
        "previous": str(previous) if isinstance(previous, (str, Path)) else None,
        "encoder": model.encoder_name_, "encoder_corpus_fitted": bool(model.encoder_corpus_fitted_),
        "n_features_in": int(model.n_features_in_), "method": model.method_,
        "outlier_threshold": float(model.outlier_threshold_), "outlier_share": float(model.outlier_share_),
        "next_id": int(model.next_id_), "n_documents": int(len(model.labels_)),
        "previous_ids_missing": [int(i) for i in model.previous_ids_missing_],
    }
    records = [{k: _jsonable(v) for k, v in row.items()} for row in model.topics_.to_dict("records")]
    (path / "topic_model.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    (path / "topics.json").write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    np.save(path / "centroids.npy", np.asarray(model.centroids_, dtype=np.float32), allow_pickle=False)
    np.save(path / "similarity_quantiles.npy", np.asarray(model.similarity_quantiles_, dtype=np.float64),
            allow_pickle=False)
    parents = [{k: _jsonable(v) for k, v in row.items()} for row in model.parents_.to_dict("records")]
    (path / "parents.json").write_text(json.dumps(parents, indent=2, ensure_ascii=False), encoding="utf-8")
    np.save(path / "parent_centroids.npy", np.asarray(model.parent_centroids_, dtype=np.float32), allow_pickle=False)
    return path


def load_topic_model(cls, path: Path):
    meta_file = path / "topic_model.json"
    if not meta_file.exists():
        raise ConfigError(f"{path} is not a saved topic model (no topic_model.json); "
                          "give the 'model' folder a topic discovery run wrote.")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT or int(meta.get("version", 0)) > VERSION:
        raise ConfigError(f"{meta_file}: unsupported topic model format {meta.get('format')!r} "
                          f"version {meta.get('version')!r} (this cxlens reads {FORMAT} v{VERSION}).")
    params = dict(meta["params"])
    encoder = params.pop("encoder", None)
    model = cls(**params, encoder=encoder, previous=meta.get("previous"))
    records = json.loads((path / "topics.json").read_text(encoding="utf-8"))
    topics = pd.DataFrame(records)
    if "previous_similarity" in topics:
        topics["previous_similarity"] = pd.to_numeric(topics["previous_similarity"], errors="coerce")
    model.topics_ = topics
    model.centroids_ = np.load(path / "centroids.npy", allow_pickle=False)
    model.similarity_quantiles_ = np.load(path / "similarity_quantiles.npy", allow_pickle=False)
    if len(model.centroids_) != len(topics):
        raise ConfigError(f"{path}: {len(topics)} topics but {len(model.centroids_)} centroids; the folder is damaged.")
    model.encoder_ = None
    model.encoder_name_ = meta.get("encoder")
    model.encoder_corpus_fitted_ = bool(meta.get("encoder_corpus_fitted"))
    model.n_features_in_ = int(meta["n_features_in"])
    model.method_ = meta.get("method")
    model.outlier_threshold_ = float(meta["outlier_threshold"])
    model.outlier_share_ = float(meta["outlier_share"])
    model.next_id_ = int(meta["next_id"])
    model.previous_ids_missing_ = list(meta.get("previous_ids_missing", []))
    _load_parents(model, path)
    model.labels_ = np.empty(0, dtype=np.int64)  # per-message results are not part of the model
    model.secondary_labels_ = np.empty(0, dtype=np.int64)
    model.confidence_ = np.empty(0, dtype=np.float64)
    return model


def _load_parents(model, path: Path) -> None:
    """``parents_`` and ``parent_centroids_``; none for a version-1 folder (each topic its own parent)."""
    from cxlens.nlp.topics._hierarchy import PARENT_COLUMNS

    file = path / "parents.json"
    if not file.exists():
        model.parents_ = pd.DataFrame(columns=PARENT_COLUMNS)
        model.parent_centroids_ = np.zeros((0, model.n_features_in_), dtype=np.float32)
        return
    model.parents_ = pd.DataFrame(json.loads(file.read_text(encoding="utf-8")), columns=PARENT_COLUMNS)
    model.parent_centroids_ = np.load(path / "parent_centroids.npy", allow_pickle=False)
    if len(model.parent_centroids_) != len(model.parents_):
        raise ConfigError(f"{path}: {len(model.parents_)} parents but {len(model.parent_centroids_)} parent centroids; "
                          "the folder is damaged.")
