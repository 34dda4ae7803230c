"""AI-derived ticket KPIs: sentiment, topics and request types from the scored columns.

The NLP pipelines add ``sentiment`` (negative/neutral/positive), ``topic`` and
``request_type`` to tickets (see docs/architecture.md); these KPIs are computed
whenever those columns exist.  Tickets whose label is missing are not counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._measures import share_measure, share_rows, tickets_all
from cxlens.metrics._partials import Groups, Rows
from cxlens.metrics._registry import Measure, Tables, register_grouped, register_kpi, register_rows
from cxlens.metrics.durations import utc_naive

__all__ = [
    "label_counts_per_group", "label_shares", "negative_share", "negative_share_rows", "request_type_share",
    "sentiment_index", "sentiment_index_measure", "sentiment_index_rows", "topic_share", "topic_trend",
]

TREND_PERIOD = "M"


def sentiment_index_measure(frame: pd.DataFrame, id_column: str) -> Measure:
    """% positive - % negative over the rows with a sentiment label (-100..100)."""
    labels = frame["sentiment"]
    known = labels.notna().to_numpy()
    n = int(known.sum())
    if not n:
        return Measure(value=None, n=0, id_kind=id_column)
    positive = int((labels == "positive").sum())
    negative = int((labels == "negative").sum())
    return Measure(value=100.0 * (positive - negative) / n, n=n, ids=frame[id_column][known], id_kind=id_column)


def negative_share_measure(frame: pd.DataFrame, id_column: str) -> Measure:
    """% of labelled rows whose sentiment is negative."""
    labels = frame["sentiment"]
    return share_measure((labels == "negative").to_numpy(dtype=bool, na_value=False), labels.notna().to_numpy(),
                         frame[id_column], id_kind=id_column)


def label_shares(labels: pd.Series) -> dict[str, float]:
    """% per label over the non-null labels, largest first (ties by name)."""
    counts = labels.value_counts(dropna=True)
    total = int(counts.sum())
    if not total:
        return {}
    counts.index = counts.index.astype(str)
    counts = counts.sort_index().sort_values(ascending=False, kind="mergesort")
    return {str(k): 100.0 * int(v) / total for k, v in counts.items()}


def _share_kpi(tables: Tables, column: str) -> Measure:
    tickets = tables.tickets
    known = tickets[column].notna().to_numpy()
    shares = label_shares(tickets[column])
    if not shares:
        return Measure(value=None, n=0)
    return Measure(value=shares, n=int(known.sum()), ids=tickets["ticket_id"][known])


@register_kpi(name="sentiment_index", unit="score", direction="higher",
              formula="% positive - % negative tickets (of those with a sentiment label), -100..100",
              requires=("tickets.sentiment",), category="ai")
def sentiment_index(tables: Tables, config: KPIConfig) -> Measure:
    """Ticket sentiment index: % positive minus % negative tickets, from -100 to 100."""
    return sentiment_index_measure(tables.tickets, "ticket_id")


@register_kpi(name="negative_share", unit="%", direction="lower",
              formula="negative tickets / tickets with a sentiment label x 100",
              requires=("tickets.sentiment",), category="ai")
def negative_share(tables: Tables, config: KPIConfig) -> Measure:
    """Negative share: tickets whose sentiment is negative, in %."""
    return negative_share_measure(tables.tickets, "ticket_id")


@register_kpi(name="topic_share", unit="table", direction="neutral",
              formula="count(tickets per topic) / tickets with a topic x 100",
              requires=("tickets.topic",), category="ai")
def topic_share(tables: Tables, config: KPIConfig) -> Measure:
    """Topic share: % of tickets per topic, largest first."""
    return _share_kpi(tables, "topic")


@register_kpi(name="request_type_share", unit="table", direction="neutral",
              formula="count(tickets per request_type) / tickets with a request type x 100",
              requires=("tickets.request_type",), category="ai")
def request_type_share(tables: Tables, config: KPIConfig) -> Measure:
    """Request type share: % of tickets per request type (question, complaint, ...), largest first."""
    return _share_kpi(tables, "request_type")


def _month_numbers(created: pd.Series) -> np.ndarray:
    """UTC calendar month of each timestamp, as months since 1970-01."""
    return utc_naive(created).astype("datetime64[M]").astype(np.int64)


def _month_label(number: int) -> str:
    return f"{1970 + number // 12:04d}-{number % 12 + 1:02d}"


@register_kpi(name="topic_trend", unit="table", direction="neutral",
              formula="topic share per calendar month; change = last month's share - the month before (points)",
              requires=("tickets.topic",), category="ai")
def topic_trend(tables: Tables, config: KPIConfig) -> Measure:
    """Topic trend: each topic's monthly share (%) and its change from the previous month, in points.

    Months are UTC calendar months of ``created_at``.  The month before the
    first one is taken from the group's other tickets when there are any, so a
    report grouped by month still shows each month's change.  Value:
    ``{"periods": [...], "shares": {topic: [% per period]}, "change": {topic: points}}``
    (change is ``None`` with a single month).
    """
    tickets = tables.tickets
    known = tickets["topic"].notna().to_numpy()
    if not known.any():
        return Measure(value=None, n=0)
    topics = tickets["topic"].to_numpy()[known]
    months = _month_numbers(tickets["created_at"][known])
    baseline = _previous_month(tables, tickets["created_at"][known].min())
    if baseline is not None:
        topics = np.concatenate([baseline["topic"].to_numpy(), topics])
        months = np.concatenate([_month_numbers(baseline["created_at"]), months])
    topic_codes, topic_names = pd.factorize(topics)
    month_codes, month_values = pd.factorize(months, sort=True)
    width = len(month_values)
    counts = np.bincount(topic_codes * width + month_codes, minlength=len(topic_names) * width)
    counts = counts.reshape(len(topic_names), width).astype(np.float64)
    shares = pd.DataFrame(100.0 * counts / counts.sum(axis=0), index=[str(t) for t in topic_names],
                          columns=month_values)
    order = shares.iloc[:, -1].sort_index().sort_values(ascending=False, kind="mergesort").index
    shares = shares.loc[order]
    periods = [_month_label(int(p)) for p in shares.columns]
    change = (shares.iloc[:, -1] - shares.iloc[:, -2]) if len(periods) > 1 else None
    value = {
        "periods": periods,
        "shares": {str(t): [float(v) for v in shares.loc[t]] for t in shares.index},
        "change": {str(t): (None if change is None else float(change.loc[t])) for t in shares.index},
    }
    return Measure(value=value, n=int(known.sum()), ids=tickets["ticket_id"][known])


def _previous_month(tables: Tables, first: pd.Timestamp) -> pd.DataFrame | None:
    """Tickets (with a topic) of the calendar month before ``first``, from ``tickets_all``."""
    everything = tickets_all(tables)
    if everything is None or everything is tables.tickets or "topic" not in everything:
        return None
    month = first.tz_convert("UTC").tz_localize(None).to_period(TREND_PERIOD) - 1
    start = month.start_time.tz_localize("UTC")
    end = (month + 1).start_time.tz_localize("UTC")
    created = everything["created_at"]
    mask = ((created >= start) & (created < end) & everything["topic"].notna()).to_numpy()
    if not mask.any():
        return None
    return everything.loc[mask, ["created_at", "topic"]]


# --- the same KPIs for every group at once (grouped reports; see cxlens.metrics._partials) ---

def sentiment_index_rows(frame: pd.DataFrame, table: str) -> Rows:
    """Per labelled row: +1 positive, -1 negative, 0 otherwise (x 100 on the mean)."""
    labels = frame["sentiment"]
    sign = (labels == "positive").to_numpy(dtype=np.float64, na_value=0.0) - \
        (labels == "negative").to_numpy(dtype=np.float64, na_value=0.0)
    return Rows(table, np.where(labels.notna().to_numpy(), sign, np.nan), scale=100.0)


def negative_share_rows(frame: pd.DataFrame, table: str) -> Rows:
    labels = frame["sentiment"]
    return share_rows(table, (labels == "negative").to_numpy(dtype=bool, na_value=False), labels.notna().to_numpy())


@register_rows("sentiment_index")
def _sentiment_rows(tables: Tables, config: KPIConfig) -> Rows:
    return sentiment_index_rows(tables.tickets, "tickets")


@register_rows("negative_share")
def _negative_rows(tables: Tables, config: KPIConfig) -> Rows:
    return negative_share_rows(tables.tickets, "tickets")


def label_counts_per_group(values: pd.Series, codes: np.ndarray, size: int) -> tuple[np.ndarray, list]:
    """(counts[group, label], labels) of a label column; a categorical's unused categories count 0."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        label_codes = values.cat.codes.to_numpy().astype(np.int64)
        labels = list(values.cat.categories)
    else:
        label_codes, uniques = pd.factorize(values)
        label_codes = label_codes.astype(np.int64)
        labels = list(uniques)
    width = max(len(labels), 1)
    keep = (codes >= 0) & (label_codes >= 0)
    counts = np.bincount(codes[keep] * width + label_codes[keep], minlength=size * width)
    return counts.reshape(size, width)[:, :len(labels)], labels


def _share_groups(groups: Groups, column: str):
    counts, labels = label_counts_per_group(groups.tables.tickets[column], groups.codes["tickets"], groups.size)
    names = pd.Index(labels).astype(str)
    by_name = np.argsort(np.asarray(names, dtype=object), kind="stable")
    categorical = isinstance(groups.tables.tickets[column].dtype, pd.CategoricalDtype)
    values, n = [], counts.sum(axis=1)
    for row, total in zip(counts, n):
        if not total:
            values.append(None)
            continue
        order = [i for i in by_name if categorical or row[i]]
        order.sort(key=lambda i: -row[i])  # stable: ties stay in name order, as label_shares sorts
        values.append({str(names[i]): 100.0 * int(row[i]) / int(total) for i in order})
    return values, n


@register_grouped("topic_share")
def _topic_share_groups(groups: Groups, config: KPIConfig):
    return _share_groups(groups, "topic")


@register_grouped("request_type_share")
def _request_type_share_groups(groups: Groups, config: KPIConfig):
    return _share_groups(groups, "request_type")
