"""The topic-discovery job: messages in; topics, assignments, trends and emerging topics out.

Plain functions, each named for what it returns; :func:`discover_topics` wires them and
writes the files.  Nothing here parses arguments or prints (the CLI does); progress goes
to an optional ``progress(step, done, total)`` callback and to logging.

Outputs of :func:`discover_topics` in ``out``::

    topics.csv            id, name, label, keywords, size, share, parent_id, parent_name, level, n_subtopics,
                          seed, is_new, previous_similarity, representative_1..3 (see topic_table)
    assignments.parquet   the input rows + topic_id, topic (name), topic_confidence, topic_parent_id,
                          topic_parent, topic_secondary_id, topic_secondary (or .csv)
    trends.csv            period, topic_id, topic, count, share (of the period's messages)[, parent_id, parent]
    emerging.csv          emerging-topic alerts (rolling baseline, minimum volume, cooldown; 3 sample
                          messages each), and topics new vs --previous (docs/dashboard.md#emerging-topic-alerts)
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
from cxlens.pipelines._topic_alerts import TopicAlertRule, alert_samples, topic_alerts

__all__ = [
    "TopicAlertRule",
    "discover_topics",
    "emerging_samples",
    "emerging_topics",
    "fitted_topic_model",
    "message_embeddings",
    "period_labels",
    "topic_alerts",
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
    """``topics.csv``: one row per topic and per top-level topic holding subtopics.

    Columns: ``id, name, label`` (the same plain-words name), ``keywords`` (joined), ``size, share,
    parent_id, parent_name, level`` (``"topic"``: top level, ``parent_id`` is its own id;
    ``"subtopic"``: under ``parent_id``), ``n_subtopics, seed, is_new, previous_similarity,
    representative_1..3``.  Messages are assigned to the rows that have no subtopics
    (``n_subtopics == 0``); a parent's ``size`` is the sum of its subtopics'.  Rows: top-level topics
    by size, each followed by its subtopics by size.
    """
    topics = model.topics_
    parent_ids = model.parent_of_rows()
    parents = getattr(model, "parents_", None)
    parent_names = dict(zip(topics["id"].tolist(), topics["label"].tolist()))
    if parents is not None and len(parents):
        parent_names.update(zip(parents["id"].tolist(), parents["label"].tolist()))
    is_sub = parent_ids != topics["id"].to_numpy()
    table = pd.DataFrame({
        "id": topics["id"].astype("int64"), "name": topics["label"], "label": topics["label"],
        "keywords": topics["keywords"].map(", ".join), "size": topics["size"].astype("int64"),
        "share": topics["share"].round(6), "parent_id": parent_ids.astype("int64"),
        "parent_name": [parent_names[int(p)] for p in parent_ids],
        "level": np.where(is_sub, "subtopic", "topic"), "n_subtopics": 0,
        "seed": topics["seed"].astype(bool), "is_new": topics["is_new"].astype(bool),
        "previous_similarity": topics["previous_similarity"].round(4),
    })
    reps = list(topics["representative_messages"])
    if parents is not None and len(parents):
        top = pd.DataFrame({
            "id": parents["id"].astype("int64"), "name": parents["label"], "label": parents["label"],
            "keywords": parents["keywords"].map(", ".join), "size": parents["size"].astype("int64"),
            "share": parents["share"].astype(float).round(6), "parent_id": parents["id"].astype("int64"),
            "parent_name": parents["label"], "level": "topic", "n_subtopics": parents["children"].map(len),
            "seed": False, "is_new": False, "previous_similarity": np.nan,
        })
        table = pd.concat([table, top], ignore_index=True)
        reps += list(parents["representative_messages"])
    n_reps = max([len(r) for r in reps] + [0])
    for i in range(n_reps):
        table[f"representative_{i + 1}"] = [r[i] if len(r) > i else "" for r in reps]
    top_size = table.loc[table["level"] == "topic"].set_index("id")["size"]
    table["_top_size"] = table["parent_id"].map(top_size)
    table["_sub"] = table["level"] == "subtopic"
    table = table.sort_values(["_top_size", "parent_id", "_sub", "size", "id"],
                              ascending=[False, True, True, False, True], kind="stable")
    return table.drop(columns=["_top_size", "_sub"]).reset_index(drop=True)


def topic_assignments(messages: pd.DataFrame, model: TopicModel, modelled: np.ndarray) -> pd.DataFrame:
    """The input rows plus ``topic_id``, ``topic``, ``topic_confidence``, ``topic_parent_id``,
    ``topic_parent``, ``topic_secondary_id`` and ``topic_secondary``.

    ``modelled`` marks the rows that were fitted (rows with empty text get no topic: nulls).  An
    outlier has topic and parent ``-1`` / ``"outlier"``; a message without a second topic has
    ``topic_secondary_id`` -1 and a null ``topic_secondary``.
    """
    out = messages.drop(columns=["_time"], errors="ignore").copy()
    labels = np.asarray(model.labels_)
    parent_of = dict(zip(model.topics_["id"].tolist(), model.parent_of_rows().tolist()))
    parent_of[-1] = -1
    secondary = np.asarray(getattr(model, "secondary_labels_", []), dtype=np.int64)
    if len(secondary) != len(labels):
        secondary = np.full(len(labels), -1, dtype=np.int64)

    def ids_of(values: np.ndarray) -> pd.arrays.IntegerArray:
        ids = pd.array([pd.NA] * len(out), dtype="Int64")
        ids[modelled] = values
        return ids

    def names_of(values: np.ndarray, *, none_for_missing: bool = False) -> np.ndarray:
        names = pd.Series([None] * len(out), dtype=object)
        text = np.array(model.topic_names(values), dtype=object)
        if none_for_missing:
            text[values < 0] = None
        names[modelled] = text
        return names.to_numpy()

    conf = np.full(len(out), np.nan)
    conf[modelled] = np.round(model.confidence_, 4)
    parents = np.array([parent_of[int(i)] for i in labels], dtype=np.int64)
    out["topic_id"] = ids_of(labels)
    out["topic"] = names_of(labels)
    out["topic_confidence"] = conf
    out["topic_parent_id"] = ids_of(parents)
    out["topic_parent"] = names_of(parents)
    out["topic_secondary_id"] = ids_of(secondary)
    out["topic_secondary"] = names_of(secondary, none_for_missing=True)
    return out


def period_labels(times: pd.Series, *, period: str = "week") -> pd.Series:
    """Each timestamp's period as its start date (``YYYY-MM-DD``, UTC; weeks start on Monday); missing stays missing."""
    if period not in PERIODS:
        raise ConfigError(f"period must be one of {', '.join(PERIODS)}; got {period!r}.")
    stamps = pd.to_datetime(pd.Series(times.to_numpy()), utc=True)
    labels = stamps.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period(PERIODS[period]).dt.start_time
    return labels.dt.date.astype(str).where(stamps.notna().to_numpy(), None)


def topic_trends(assignments: pd.DataFrame, times: pd.Series, *, period: str = "week") -> pd.DataFrame:
    """Topic x period counts and shares (share of all messages with a topic in that period).

    Columns ``period, topic_id, topic, count, share``, plus ``parent_id, parent`` when the
    assignments carry ``topic_parent_id`` / ``topic_parent`` (the top-level topic).
    """
    if period not in PERIODS:
        raise ConfigError(f"period must be one of {', '.join(PERIODS)}; got {period!r}.")
    frame = pd.DataFrame({"time": times.to_numpy(), "topic_id": assignments["topic_id"].to_numpy(),
                          "topic": assignments["topic"].to_numpy()})
    parents = None
    if {"topic_parent_id", "topic_parent"} <= set(assignments.columns):
        parents = (pd.DataFrame({"topic_id": assignments["topic_id"].to_numpy(),
                                 "parent_id": assignments["topic_parent_id"].to_numpy(),
                                 "parent": assignments["topic_parent"].to_numpy()})
                   .dropna(subset=["topic_id"]).drop_duplicates("topic_id"))
    frame = frame[frame["time"].notna() & frame["topic_id"].notna()]
    if not len(frame):
        return pd.DataFrame(columns=["period", "topic_id", "topic", "count", "share"]
                            + (["parent_id", "parent"] if parents is not None else []))
    frame["period"] = period_labels(frame["time"], period=period).to_numpy()
    counts = frame.groupby(["period", "topic_id", "topic"], observed=True).size().rename("count").reset_index()
    totals = counts.groupby("period")["count"].transform("sum")
    counts["share"] = (counts["count"] / totals).round(6)
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
    if parents is not None:
        parents["topic_id"] = parents["topic_id"].astype("int64")
        full = full.merge(parents, on="topic_id", how="left")
    return full.sort_values(["period", "topic_id"]).reset_index(drop=True)


def emerging_topics(trends: pd.DataFrame, *, min_count: int = 10, min_growth: float = 2.0,
                    baseline_periods: int = 4, baseline: str = "median", min_z: float = 4.0, cooldown: int = 2,
                    model: TopicModel | None = None) -> pd.DataFrame:
    """Emerging-topic alerts (:func:`topic_alerts`), and topics new vs the previous model.

    Growth is measured on *shares* against a rolling baseline (the ``baseline`` of the previous
    ``baseline_periods`` periods), so a month with twice the traffic does not make every topic
    "emerging" and one earlier spike does not set the bar. A topic alerts in a period when it has
    at least ``min_count`` messages there, ``growth >= min_growth``, its Poisson z-score against the
    baseline is ``>= min_z`` and the baseline periods were big enough to tell; it then stays quiet
    for ``cooldown`` periods after the last period it met the rule (one spike, one alert).

    With ``model`` (fitted with ``previous=``), its topics marked ``is_new`` with at least
    ``min_count`` messages are added with reason ``new vs previous model`` (period empty). Columns:
    ``topic_id, topic, [parent_id, parent,] reason, period, count, previous_count, growth, share,
    previous_share, baseline_share, baseline_count, z, baseline_periods``; latest period first, then
    fastest growth. Outliers (-1) are never emerging.
    """
    rule = TopicAlertRule(baseline_periods=baseline_periods, baseline=baseline, min_count=min_count,
                          min_growth=min_growth, min_z=min_z, cooldown=cooldown)
    out = topic_alerts(trends, rule)
    rows: list[dict[str, Any]] = []
    if model is not None and "is_new" in model.topics_:
        for row in model.topics_.itertuples(index=False):
            if row.is_new and row.size >= min_count:
                rows.append({"topic_id": int(row.id), "topic": row.label, "reason": "new vs previous model",
                             "period": "", "count": int(row.size), "previous_count": 0, "growth": np.inf,
                             "share": float(row.share), "previous_share": 0.0, "baseline_share": 0.0,
                             "baseline_count": 0.0, "z": np.nan, "baseline_periods": 0})
    if rows:
        out = pd.concat([out, pd.DataFrame(rows)], ignore_index=True) if len(out) else pd.DataFrame(
            rows, columns=list(out.columns))
    return out


def discover_topics(input_path: str | Path, *, text_col: str, out: str | Path, time_col: str | None = None,
                    period: str = "week", where: Sequence[str] = (), limit: int | None = None,
                    encoder: str | Any = "minilm", n_topics: int | None = None, previous: str | Path | None = None,
                    seed_topics: str | Path | None = None, max_outlier_share: float = 0.10,
                    min_count: int = 10, min_growth: float = 2.0, baseline_periods: int = 4,
                    baseline: str = "median", min_z: float = 4.0, cooldown: int = 2, samples: int = 3,
                    assignments_format: str = "parquet",
                    encoding: str = "utf-8", random_state: int = 0,
                    progress: Progress = _noop) -> dict[str, Any]:
    """Run the whole job and write its files; returns the paths and a summary."""
    if assignments_format not in ("parquet", "csv"):
        raise ConfigError(f"assignments format must be parquet or csv; got {assignments_format!r}.")
    TopicAlertRule(baseline_periods=baseline_periods, baseline=baseline, min_count=min_count, min_growth=min_growth,
                   min_z=min_z, cooldown=cooldown, samples=samples)  # a bad rule fails before the clustering
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
    emerging = emerging_topics(trends, min_count=min_count, min_growth=min_growth, baseline_periods=baseline_periods,
                               baseline=baseline, min_z=min_z, cooldown=cooldown,
                               model=model if previous is not None else None)
    emerging = emerging_samples(emerging, assignments, messages.get("_time"), text_col=text_col, period=period,
                                n=samples)
    paths["emerging"] = out / "emerging.csv"
    write_csv(emerging, paths["emerging"])
    paths["model"] = model.save(out / "model")
    progress("write", 1, 1)
    summary = {"messages": int(len(messages)), "modelled": int(modelled.sum()), "topics": int(len(model.topics_)),
               "top_level": int((table["level"] == "topic").sum()),
               "outlier_share": round(model.outlier_share_, 4), "method": model.method_,
               "encoder": model.encoder_name_, "emerging": int(len(emerging)),
               "new_topics": int(model.topics_["is_new"].sum()), "labels": table.loc[table["level"] == "topic", "label"].head(10).tolist()}
    return {"paths": paths, "summary": summary, "model": model}


def emerging_samples(emerging: pd.DataFrame, assignments: pd.DataFrame, times: pd.Series | None, *, text_col: str,
                     period: str = "week", n: int = 3) -> pd.DataFrame:
    """``emerging`` plus ``sample_1..n``: the topic's most confident messages of the alert's period
    (of any period for a row without one, such as ``new vs previous model``)."""
    labels = (period_labels(times, period=period) if times is not None
              else pd.Series([None] * len(assignments), dtype=object))
    pool = assignments.assign(period=labels.fillna("").to_numpy())
    return alert_samples(emerging, pool, text_col=text_col, n=n)

