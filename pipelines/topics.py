"""The topic-discovery job: messages in; topics, assignments, trends and emerging topics out.

Plain functions, each named for what it returns; :func:`discover_topics` wires them and
writes the files.  Nothing here parses arguments or prints (the CLI does); progress goes
to an optional ``progress(step, done, total)`` callback and to logging.

Outputs of :func:`discover_topics` in ``out``::

    topics.csv            id, label, keywords, size, share, seed, is_new, representative_1..3
    assignments.parquet   the input rows + topic_id, topic (label), topic_confidence (or .csv)
    trends.csv            period, topic_id, topic, count, share (of the period's messages)
    emerging.csv          topics growing vs the previous period, and topics new vs --previous
    model/                the saved TopicModel (pass it as --previous next time)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlens._csv_safety import write_csv
from cxlens.errors import ConfigError, ConfigProblem, DataError, InvalidConfigError, MissingColumnsError
from cxlens.nlp.topics import embedding_text
from cxlens.nlp.topics import TopicModel

__all__ = [
    "discover_topics",
    "emerging_topics",
    "fitted_topic_model",
    "message_embeddings",
    "topic_assignments",
    "topic_encoder",
    "topic_messages",
    "topic_table",
    "topic_trends",
]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}
_ENCODE_CHUNK = 2048


def _noop(step: str, done: int, total: int) -> None:
    return None


def topic_messages(path: str | Path, *, text_col: str, time_col: str | None = None,
                   where: Sequence[str] = (), limit: int | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """The input rows (CSV, JSONL, JSON or Parquet), filtered by ``where`` (``COL=VALUE``), first ``limit``.

    ``time_col``, when given, is parsed to UTC timestamps as ``_time`` (unparseable values
    become missing and are left out of the trends only).
    """
    from cxlens.io import ROW_COL, SOURCE_COL, read_frame

    frame, unreadable = read_frame(path, encoding=encoding)
    if len(unreadable):
        log.warning("%d unreadable line(s) in %s were skipped", len(unreadable), path)
    frame = frame.drop(columns=[c for c in (ROW_COL, SOURCE_COL) if c in frame])
    needed = [c for c in (text_col, time_col) if c]
    missing = [c for c in needed if c not in frame]
    if missing:
        raise MissingColumnsError(table="messages", missing=missing, source=str(path), present=frame.columns)
    for cond in where:
        col, sep, value = cond.partition("=")
        if not sep or col not in frame:
            raise InvalidConfigError([ConfigProblem("where", cond, f"expected COLUMN=VALUE with a column of {path} "
                                                                  f"({', '.join(map(str, frame.columns[:20]))}).")])
        frame = frame[frame[col].astype(str).str.lower() == value.lower()]
    if limit is not None:
        frame = frame.head(int(limit))
    frame = frame.reset_index(drop=True)
    if time_col:
        frame["_time"] = _parse_times(frame[time_col])
        bad = int(frame["_time"].isna().sum() - frame[time_col].isna().sum())
        if bad:
            log.warning("%d value(s) of %s are not timestamps; those rows are left out of the trends", bad, time_col)
    if not len(frame):
        raise DataError(f"{path}: no rows left to model (after {{where}} / {{limit}}).", params=("where", "limit"))
    return frame


def _parse_times(values: pd.Series) -> pd.Series:
    text = values.astype("string")
    for fmt in ("%a %b %d %H:%M:%S %z %Y", "ISO8601"):  # Twitter's created_at, then ISO
        parsed = pd.to_datetime(text, format=fmt, utc=True, errors="coerce")
        if parsed.notna().sum() >= 0.9 * text.notna().sum():
            return parsed
    return pd.to_datetime(text, utc=True, errors="coerce", format="mixed")


def topic_encoder(name: str, texts: Sequence[str]):
    """The named encoder; one that needs fitting (``tfidf``) is a fresh copy fitted on ``texts``
    (as given to the encoder: :func:`cxlens.nlp.topics._labels.embedding_text`)."""
    import copy

    from cxlens.nlp.encoders import get_encoder

    encoder = get_encoder(name)
    if hasattr(encoder, "fit"):
        log.info("fitting the %s encoder on %d texts", name, len(texts))
        encoder = copy.deepcopy(encoder).fit([embedding_text(t) for t in texts])
    return encoder


def message_embeddings(texts: Sequence[str], encoder, *, progress: Progress = _noop) -> np.ndarray:
    """``encoder.encode`` in chunks (handles, URLs and entities removed first), reporting progress."""
    texts = [embedding_text(t) for t in texts]
    parts = []
    for start in range(0, len(texts), _ENCODE_CHUNK):
        parts.append(np.asarray(encoder.encode(texts[start:start + _ENCODE_CHUNK]), dtype=np.float32))
        progress("encode", min(start + _ENCODE_CHUNK, len(texts)), len(texts))
    return np.vstack(parts) if parts else np.empty((0, 0), dtype=np.float32)


def fitted_topic_model(texts: Sequence[str], embeddings: np.ndarray, *, encoder: Any, **params: Any) -> TopicModel:
    """A :class:`TopicModel` fitted on ``texts`` (``params`` are its keyword parameters)."""
    return TopicModel(encoder=encoder, **params).fit(list(texts), embeddings=embeddings)


def topic_table(model: TopicModel) -> pd.DataFrame:
    """``topics.csv``: one row per topic, keywords joined, representatives in their own columns."""
    topics = model.topics_
    table = pd.DataFrame({
        "id": topics["id"].astype("int64"), "label": topics["label"],
        "keywords": topics["keywords"].map(", ".join), "size": topics["size"].astype("int64"),
        "share": topics["share"].round(6), "seed": topics["seed"].astype(bool), "is_new": topics["is_new"].astype(bool),
        "previous_similarity": topics["previous_similarity"].round(4),
    })
    n_reps = max([len(r) for r in topics["representative_messages"]] + [0])
    for i in range(n_reps):
        table[f"representative_{i + 1}"] = [r[i] if len(r) > i else "" for r in topics["representative_messages"]]
    return table.sort_values("size", ascending=False, kind="stable").reset_index(drop=True)


def topic_assignments(messages: pd.DataFrame, model: TopicModel, modelled: np.ndarray) -> pd.DataFrame:
    """The input rows plus ``topic_id``, ``topic`` and ``topic_confidence``.

    ``modelled`` marks the rows that were fitted (rows with empty text get no topic).
    """
    out = messages.drop(columns=["_time"], errors="ignore").copy()
    ids = pd.array([pd.NA] * len(out), dtype="Int64")
    conf = np.full(len(out), np.nan)
    ids[modelled] = model.labels_
    conf[modelled] = np.round(model.confidence_, 4)
    out["topic_id"] = ids
    names = pd.Series([None] * len(out), dtype=object)
    names[modelled] = model.topic_names(model.labels_)
    out["topic"] = names.to_numpy()
    out["topic_confidence"] = conf
    return out


def topic_trends(assignments: pd.DataFrame, times: pd.Series, *, period: str = "week") -> pd.DataFrame:
    """Topic x period counts and shares (share of all messages with a topic in that period)."""
    if period not in PERIODS:
        raise ConfigError(f"period must be one of {', '.join(PERIODS)}; got {period!r}.")
    frame = pd.DataFrame({"time": times.to_numpy(), "topic_id": assignments["topic_id"].to_numpy(),
                          "topic": assignments["topic"].to_numpy()})
    frame = frame[frame["time"].notna() & frame["topic_id"].notna()]
    if not len(frame):
        return pd.DataFrame(columns=["period", "topic_id", "topic", "count", "share"])
    naive = frame["time"].dt.tz_convert("UTC").dt.tz_localize(None)
    frame["period"] = naive.dt.to_period(PERIODS[period]).dt.start_time
    counts = frame.groupby(["period", "topic_id", "topic"], observed=True).size().rename("count").reset_index()
    totals = counts.groupby("period")["count"].transform("sum")
    counts["share"] = (counts["count"] / totals).round(6)
    counts["period"] = counts["period"].dt.date.astype(str)
    # every topic in every period (zeros included), so growth from nothing is visible
    grid = pd.MultiIndex.from_product([sorted(counts["period"].unique()),
                                       sorted(counts[["topic_id", "topic"]].drop_duplicates().itertuples(index=False))],
                                      names=["period", "key"])
    full = pd.DataFrame(index=grid).reset_index()
    full["topic_id"] = [k[0] for k in full["key"]]
    full["topic"] = [k[1] for k in full["key"]]
    full = full.drop(columns="key").merge(counts, on=["period", "topic_id", "topic"], how="left")
    full["count"] = full["count"].fillna(0).astype("int64")
    full["share"] = full["share"].fillna(0.0)
    full["topic_id"] = full["topic_id"].astype("int64")
    return full.sort_values(["period", "topic_id"]).reset_index(drop=True)


def emerging_topics(trends: pd.DataFrame, *, min_count: int = 10, min_growth: float = 2.0,
                    model: TopicModel | None = None) -> pd.DataFrame:
    """Topics growing vs the previous period, and topics new vs the previous model.

    Growth is measured on *shares*, so a month with twice the traffic does not make every topic
    "emerging": ``growth = share / previous_share`` (a previous share of zero counts as one
    message).  A topic is flagged in a period when

    * it has at least ``min_count`` messages there,
    * ``growth >= min_growth``, and
    * the previous period was big enough to tell: at the new share it would have held at least
      ``min_count`` messages (so 30 messages in a quiet month prove nothing).

    With ``model`` (fitted with ``previous=``), its topics marked ``is_new`` with at least
    ``min_count`` messages are added with reason ``new vs previous model``.  Columns: ``topic_id,
    topic, reason, period, count, previous_count, growth, share, previous_share``; latest period
    first, then fastest growth.  Outliers (-1) are never emerging.
    """
    rows: list[dict[str, Any]] = []
    if len(trends):
        totals = trends.groupby("period")["count"].sum()
        data = trends[trends["topic_id"] >= 0].sort_values(["topic_id", "period"])
        prev_count = data.groupby("topic_id")["count"].shift(1)
        prev_share = data.groupby("topic_id")["share"].shift(1)
        prev_period = data.groupby("topic_id")["period"].shift(1)
        prev_total = prev_period.map(totals)
        floor = 1.0 / prev_total.clip(lower=1)
        growth = data["share"] / np.maximum(prev_share.fillna(0.0), floor)
        flagged = (prev_period.notna() & (data["count"] >= min_count) & (growth >= min_growth)
                   & (data["share"] * prev_total >= min_count))
        for idx in data.index[flagged]:
            rows.append({"topic_id": int(data.at[idx, "topic_id"]), "topic": data.at[idx, "topic"],
                         "reason": "growth vs previous period" if prev_count[idx] > 0 else "appeared this period",
                         "period": data.at[idx, "period"], "count": int(data.at[idx, "count"]),
                         "previous_count": int(prev_count[idx]), "growth": round(float(growth[idx]), 3),
                         "share": float(data.at[idx, "share"]), "previous_share": float(prev_share[idx])})
    if model is not None and "is_new" in model.topics_:
        for row in model.topics_.itertuples(index=False):
            if row.is_new and row.size >= min_count:
                rows.append({"topic_id": int(row.id), "topic": row.label, "reason": "new vs previous model",
                             "period": "", "count": int(row.size), "previous_count": 0, "growth": np.inf,
                             "share": float(row.share), "previous_share": 0.0})
    columns = ["topic_id", "topic", "reason", "period", "count", "previous_count", "growth", "share", "previous_share"]
    out = pd.DataFrame(rows, columns=columns)
    if len(out):
        out = out.sort_values(["period", "growth"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return out


def discover_topics(input_path: str | Path, *, text_col: str, out: str | Path, time_col: str | None = None,
                    period: str = "week", where: Sequence[str] = (), limit: int | None = None,
                    encoder: str | Any = "minilm", n_topics: int | None = None, previous: str | Path | None = None,
                    seed_topics: str | Path | None = None, max_outlier_share: float = 0.15,
                    min_count: int = 10, min_growth: float = 2.0, assignments_format: str = "parquet",
                    encoding: str = "utf-8", random_state: int = 0,
                    progress: Progress = _noop) -> dict[str, Any]:
    """Run the whole job and write its files; returns the paths and a summary."""
    if assignments_format not in ("parquet", "csv"):
        raise ConfigError(f"assignments format must be parquet or csv; got {assignments_format!r}.")
    out = Path(out)
    progress("read", 0, 1)
    messages = topic_messages(input_path, text_col=text_col, time_col=time_col, where=where, limit=limit,
                              encoding=encoding)
    texts_all = messages[text_col].fillna("").astype(str)
    modelled = (texts_all.str.strip() != "").to_numpy()
    texts = texts_all[modelled].tolist()
    if len(texts) < 2:
        raise DataError(f"{input_path}: column {text_col!r} has fewer than 2 non-empty texts; nothing to cluster.")
    progress("read", 1, 1)
    enc = topic_encoder(encoder, texts) if isinstance(encoder, str) else encoder
    embeddings = message_embeddings(texts, enc, progress=progress)
    progress("cluster", 0, 1)
    model = fitted_topic_model(texts, embeddings, encoder=enc, n_topics=n_topics, previous=previous,
                               seed_topics=seed_topics, max_outlier_share=max_outlier_share,
                               random_state=random_state)
    progress("cluster", 1, 1)
    progress("write", 0, 1)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Any] = {}
    table = topic_table(model)
    paths["topics"] = out / "topics.csv"
    write_csv(table, paths["topics"])
    assignments = topic_assignments(messages, model, modelled)
    paths["assignments"] = out / f"assignments.{assignments_format}"
    if assignments_format == "parquet":
        assignments.to_parquet(paths["assignments"], index=False)
    else:
        write_csv(assignments, paths["assignments"])
    trends = pd.DataFrame(columns=["period", "topic_id", "topic", "count", "share"])
    if time_col:
        trends = topic_trends(assignments, messages["_time"], period=period)
        paths["trends"] = out / "trends.csv"
        write_csv(trends, paths["trends"])
    emerging = emerging_topics(trends, min_count=min_count, min_growth=min_growth,
                               model=model if previous is not None else None)
    paths["emerging"] = out / "emerging.csv"
    write_csv(emerging, paths["emerging"])
    paths["model"] = model.save(out / "model")
    progress("write", 1, 1)
    summary = {"messages": int(len(messages)), "modelled": int(modelled.sum()), "topics": int(len(model.topics_)),
               "outlier_share": round(model.outlier_share_, 4), "method": model.method_,
               "encoder": model.encoder_name_, "emerging": int(len(emerging)),
               "new_topics": int(model.topics_["is_new"].sum()), "labels": table["label"].head(10).tolist()}
    return {"paths": paths, "summary": summary, "model": model}

