"""Emerging-topic alerts that do not cry wolf: growth against a rolling baseline, a minimum volume, a cooldown.

:func:`topic_alerts` reads a trends table (``period, topic_id, topic, count, share``: every topic in
every period, zeros included, as :func:`cxlens.pipelines.topics.topic_trends` writes it) and
applies :class:`TopicAlertRule`. For each topic and period, with ``B`` = the up to
``baseline_periods`` periods before it:

* ``baseline_share`` = the median (or mean) of the topic's share over ``B``; a share of zero
  counts as one message of ``B``'s mean period total (``floor``), so growth from nothing is finite;
* ``growth = share / max(baseline_share, floor)``;
* ``z = (count - expected) / sqrt(expected)`` with ``expected = max(baseline_share, floor) x the
  period's total`` (the Poisson surprise of the count, given the baseline share).

A topic is **flagged** in a period when it has at least ``min_count`` messages there,
``growth >= min_growth``, ``z >= min_z``, and ``B`` was big enough to tell: at the new share its mean
period would have held at least ``min_count`` messages. A flagged period **alerts** unless the
topic was flagged in one of the ``cooldown`` periods before it, so a spike, however long it lasts,
alerts once; the topic alerts again only after ``cooldown`` periods without being flagged. The
first period (no baseline) and outliers (``topic_id < 0`` or topic ``outlier``) never alert.

:func:`alert_samples` adds ``sample_1..n``: the topic's messages of the alert's period, most
confident first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.errors import ConfigError

__all__ = ["ALERT_COLUMNS", "TopicAlertRule", "alert_samples", "topic_alerts"]

#: columns of :func:`topic_alerts` (``parent_id``/``parent`` only when the trends carry them)
ALERT_COLUMNS = ("topic_id", "topic", "reason", "period", "count", "previous_count", "growth", "share",
                 "previous_share", "baseline_share", "baseline_count", "z", "baseline_periods")
BASELINES = ("median", "mean")
SAMPLE_CHARS = 300


@dataclass(frozen=True)
class TopicAlertRule:
    """When a topic's growth is an alert (see the module docstring for the rule).

    ``baseline_periods``: how many previous periods make the baseline (default 4);
    ``baseline``: ``median`` (default, robust to one earlier spike) or ``mean``;
    ``min_count``: messages the topic needs in the period (default 10);
    ``min_growth``: share / baseline share (default 2);
    ``min_z``: Poisson z-score of the count against the baseline (default 4);
    ``cooldown``: periods after a flagged period in which the topic does not alert again (default 2);
    ``samples``: sample messages per alert (default 3).
    """

    baseline_periods: int = 4
    baseline: str = "median"
    min_count: int = 10
    min_growth: float = 2.0
    min_z: float = 4.0
    cooldown: int = 2
    samples: int = 3

    def __post_init__(self) -> None:
        problems = []
        if self.baseline not in BASELINES:
            problems.append(f"baseline must be one of {', '.join(BASELINES)}; got {self.baseline!r}")
        for name in ("baseline_periods", "min_count", "cooldown", "samples"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < (1 if name == "baseline_periods" else 0):
                problems.append(f"{name} must be a whole number >= {1 if name == 'baseline_periods' else 0}; "
                                f"got {value!r}")
        for name in ("min_growth", "min_z"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
                problems.append(f"{name} must be a number; got {value!r}")
        if problems:
            raise ConfigError("Invalid topic alert rule: " + "; ".join(problems) + ".")

    def describe(self) -> str:
        """The rule in one sentence (for notes and captions)."""
        return (f"share >= {self.min_growth:g}x the {self.baseline} share of the previous {self.baseline_periods} "
                f"period(s), at least {self.min_count} messages, z >= {self.min_z:g}; then quiet for "
                f"{self.cooldown} period(s)")


def _is_outlier(trends: pd.DataFrame) -> np.ndarray:
    ids = pd.to_numeric(trends["topic_id"], errors="coerce").to_numpy(dtype=float)
    return (ids < 0) | (trends["topic"].astype(str) == "outlier").to_numpy()


def topic_alerts(trends: pd.DataFrame, rule: TopicAlertRule | None = None) -> pd.DataFrame:
    """One row per alert (see the module docstring), latest period first, then fastest growth.

    Columns :data:`ALERT_COLUMNS`, plus ``parent_id`` and ``parent`` when ``trends`` has them;
    ``previous_count`` / ``previous_share`` are the period just before, ``baseline_count`` the
    baseline share x the period's total (the count the baseline expects).
    """
    rule = rule or TopicAlertRule()
    extra = [c for c in ("parent_id", "parent") if c in trends.columns]
    columns = list(ALERT_COLUMNS[:2]) + extra + list(ALERT_COLUMNS[2:])
    if not len(trends):
        return pd.DataFrame(columns=columns)
    periods = sorted(trends["period"].astype(str).unique())
    index = {p: i for i, p in enumerate(periods)}
    totals = trends.groupby(trends["period"].astype(str))["count"].sum().reindex(periods).to_numpy(dtype=float)
    data = trends.loc[~_is_outlier(trends)]
    rows = []
    for topic_id, part in data.groupby("topic_id", sort=True):
        counts = np.zeros(len(periods))
        where = part["period"].astype(str).map(index).to_numpy()
        np.add.at(counts, where, pd.to_numeric(part["count"], errors="coerce").fillna(0).to_numpy(dtype=float))
        shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        last_flagged = -10 ** 9
        for i in range(1, len(periods)):
            window = slice(max(0, i - rule.baseline_periods), i)
            base_total = float(totals[window].mean())
            if base_total <= 0:
                continue
            baseline = float(np.median(shares[window]) if rule.baseline == "median" else shares[window].mean())
            base = max(baseline, 1.0 / base_total)
            expected = base * totals[i]
            growth = shares[i] / base
            z = (counts[i] - expected) / np.sqrt(expected) if expected > 0 else 0.0
            flagged = (counts[i] >= rule.min_count and growth >= rule.min_growth and z >= rule.min_z
                       and shares[i] * base_total >= rule.min_count)
            if not flagged:
                continue
            quiet = i - last_flagged > rule.cooldown
            last_flagged = i
            if not quiet:
                continue
            first = part.iloc[0]
            row = {"topic_id": topic_id, "topic": first["topic"]}
            row.update({c: first[c] for c in extra})
            row.update({
                "reason": "appeared this period" if counts[window].sum() == 0 else "growth vs baseline",
                "period": periods[i], "count": int(counts[i]), "previous_count": int(counts[i - 1]),
                "growth": round(float(growth), 3), "share": round(float(shares[i]), 6),
                "previous_share": round(float(shares[i - 1]), 6), "baseline_share": round(baseline, 6),
                "baseline_count": round(baseline * float(totals[i]), 2), "z": round(float(z), 2),
                "baseline_periods": int(window.stop - window.start)})
            rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    if len(out):
        out = out.sort_values(["period", "growth"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return out


def _keys(values: pd.Series) -> np.ndarray:
    """Topic keys as text: ``2``, ``2.0`` and ``"2"`` are the same topic."""
    values = pd.Series(values.to_numpy(dtype=object))
    number = pd.to_numeric(values, errors="coerce")
    whole = number.notna() & (number == number.round())
    out = values.astype(str).to_numpy(dtype=object)
    out[whole.to_numpy()] = number[whole].astype("int64").astype(str).to_numpy()
    return out


def alert_samples(alerts: pd.DataFrame, messages: pd.DataFrame, *, text_col: str, n: int = 3,
                  key: str = "topic_id") -> pd.DataFrame:
    """``alerts`` plus ``sample_1..n``: per alert, up to ``n`` distinct messages of its topic in its period.

    ``messages`` has ``key`` (the alerts' topic key), ``period`` (labels as in the alerts; an alert
    whose period is empty samples every period) and ``text_col``; with ``topic_confidence`` the most
    confident come first. Texts are cut to 300 characters.
    """
    out = alerts.copy()
    names = [f"sample_{i + 1}" for i in range(n)]
    for name in names:
        out[name] = ""
    if not len(out) or not n or text_col not in messages.columns:
        return out
    texts = messages[text_col].astype(object).where(messages[text_col].notna(), "").astype(str).str.strip()
    keep = (texts != "").to_numpy() & messages[key].notna().to_numpy()
    pool = pd.DataFrame({"key": messages[key].to_numpy()[keep],
                         "period": messages["period"].astype(str).to_numpy()[keep],
                         "text": texts.to_numpy()[keep]})
    if "topic_confidence" in messages.columns:
        pool["confidence"] = pd.to_numeric(messages["topic_confidence"], errors="coerce").to_numpy()[keep]
        pool = pool.sort_values("confidence", ascending=False, kind="stable", na_position="last")
    pool = pool.drop_duplicates(["key", "period", "text"])
    pool["key"] = _keys(pool["key"])
    by_key = {k: g for k, g in pool.groupby("key", sort=False)}
    for i, (row, wanted) in enumerate(zip(out.itertuples(index=False), _keys(out[key]))):
        group = by_key.get(wanted)
        if group is None:
            continue
        period = str(getattr(row, "period") or "")
        picked = group if not period else group.loc[group["period"] == period]
        picked = picked.drop_duplicates("text").head(n)["text"].tolist()
        for name, text in zip(names, picked):
            out.iat[i, out.columns.get_loc(name)] = text[:SAMPLE_CHARS]
    return out
