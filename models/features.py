"""Account-level features, computed point-in-time at a prediction date ``as_of``.

Every feature is a small pure function ``f(frame, *, as_of) -> pd.Series``
indexed by ``account_id``.  Each one documents its **window** and sees only
what was knowable strictly before ``as_of``:

* a ticket counts from its ``created_at``; it is *resolved* only if
  ``resolved_at < as_of`` (a ticket solved after ``as_of`` was still open then);
* a first response counts only if ``first_response_at < as_of``;
* ticket-level survey answers (``csat``/``nps``/``ces`` columns) and
  ``reopened`` / ``script_adherence`` carry no timestamp of their own: they are
  used only for tickets resolved before ``as_of`` (they are given after the
  conversation ends);
* survey rows count from ``responded_at``; messages from ``sent_at``;
* an SLA breach is known once its deadline has passed before ``as_of``.

Account columns (``plan``, ``mrr`` and any extra feature columns; never keys,
dates, model outputs or a column named like a churn label) are static
attributes: the accounts table has one row per account, so it cannot be
replayed in time.  ``tenure_days`` is computed at ``as_of``.

:func:`build_features` wires the functions together for the accounts that were
customers at ``as_of`` (signed up before it, not churned before it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.config import SLAPolicy
from cxlens.errors import DataError

__all__ = [
    "ACCOUNT_RESERVED",
    "FEATURE_TICKET_COLUMNS",
    "FeatureTables",
    "active_accounts",
    "as_utc",
    "build_features",
    "csat_mean_180d",
    "ces_mean_180d",
    "customer_messages_90d",
    "days_since_last_ticket",
    "default_as_of",
    "first_response_hours_median_90d",
    "negative_sentiment_share_90d",
    "nps_mean_180d",
    "reopened_share_90d",
    "resolution_hours_median_90d",
    "script_adherence_mean_90d",
    "sentiment_score_mean_90d",
    "sla_breached",
    "sla_breaches_90d",
    "tenure_days",
    "ticket_trend_30d",
    "ticket_volume_90d",
    "unresolved_tickets",
]

log = logging.getLogger(__name__)
DAY = pd.Timedelta(days=1)
# Account columns that are keys, dates, labels or model outputs, never features.
ACCOUNT_RESERVED = frozenset({
    "account_id", "signup_at", "churned_at", "churned", "churn", "label",
    "churn_probability", "health_score", "health_band", "_row", "_source",
})
MAX_CATEGORY_LEVELS = 30


@dataclass(frozen=True)
class FeatureTables:
    """The validated tables features are computed from (any but accounts may be None)."""

    accounts: pd.DataFrame
    tickets: pd.DataFrame | None = None
    messages: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None


def as_utc(value: str | pd.Timestamp) -> pd.Timestamp:
    """A date or timestamp as tz-aware UTC (naive means UTC)."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def default_as_of(tables: FeatureTables) -> pd.Timestamp:
    """The day after the last event in the data: "now" for a batch job on an export.

    A snapshot table with no timestamp at all (one row per account, a churn label column, e.g. IBM Telco)
    has nothing to replay in time: its features are the same on any date, so today (UTC) is used.
    """
    stamps = []
    for frame, cols in ((tables.tickets, ("created_at", "resolved_at", "first_response_at")),
                        (tables.messages, ("sent_at",)), (tables.surveys, ("responded_at",)),
                        (tables.accounts, ("signup_at", "churned_at"))):
        if frame is None:
            continue
        for col in cols:
            if col in frame and frame[col].notna().any():
                stamps.append(frame[col].max())
    if not stamps:
        log.info("no timestamps in the data: a snapshot table, features as of today")
        return pd.Timestamp.now(tz="UTC").normalize()
    return (max(stamps) + DAY).normalize()


def _window(frame: pd.DataFrame, col: str, *, as_of: pd.Timestamp, days: float | None) -> pd.DataFrame:
    """Rows with ``col`` in ``[as_of - days, as_of)`` (all history when ``days`` is None)."""
    stamp = frame[col]
    keep = stamp < as_of
    if days is not None:
        keep &= stamp >= as_of - pd.Timedelta(days=days)
    return frame.loc[keep.fillna(False).astype(bool)]


def _with_account(tickets: pd.DataFrame | None) -> pd.DataFrame | None:
    """The tickets that name an account, with only the columns features read (every window below copies its
    rows, so on a big archive the scored text and model columns would be copied with them)."""
    if tickets is None or "account_id" not in tickets:
        return None
    return tickets.loc[tickets["account_id"].notna(), [c for c in tickets.columns if c in FEATURE_TICKET_COLUMNS]]


def _resolved_before(tickets: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    if "resolved_at" not in tickets:
        return pd.Series(False, index=tickets.index)
    return (tickets["resolved_at"] < as_of).fillna(False).astype(bool)


def _hours(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 3600.0


# ---------------------------------------------------------------- ticket features


def ticket_volume_90d(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Tickets opened. Window: the 90 days before ``as_of``."""
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    return recent.groupby("account_id").size().astype("float64")


def ticket_trend_30d(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """log((tickets in the last 30 days + 1) / (monthly average of the 60 days before + 1)).

    Window: the 90 days before ``as_of``; > 0 means contact is rising.
    """
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    last = recent["created_at"] >= as_of - pd.Timedelta(days=30)
    n_last = last.groupby(recent["account_id"]).sum()
    n_prior = (~last).groupby(recent["account_id"]).sum() / 2.0
    return np.log((n_last + 1.0) / (n_prior + 1.0)).astype("float64")


def negative_sentiment_share_90d(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Share of tickets scored ``sentiment == "negative"`` (0-1). Window: 90 days; needs ``sentiment``."""
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    scored = recent.loc[recent["sentiment"].notna()]
    return (scored["sentiment"] == "negative").groupby(scored["account_id"]).mean().astype("float64")


def sentiment_score_mean_90d(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Mean ``sentiment_score`` ([-1, 1]) of the tickets. Window: 90 days."""
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    return pd.to_numeric(recent["sentiment_score"], errors="coerce").groupby(recent["account_id"]).mean()


def unresolved_tickets(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Tickets open at ``as_of`` (created before it, not resolved before it). Window: 180 days."""
    opened = _window(tickets, "created_at", as_of=as_of, days=180)
    open_then = ~_resolved_before(opened, as_of)
    return open_then.groupby(opened["account_id"]).sum().astype("float64")


def reopened_share_90d(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Share of the tickets resolved before ``as_of`` that were reopened. Window: created in 90 days."""
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    done = recent.loc[_resolved_before(recent, as_of) & recent["reopened"].notna()]
    return done["reopened"].astype(float).groupby(done["account_id"]).mean()


def first_response_hours_median_90d(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Median hours to first response they experienced (responses before ``as_of``). Window: 90 days."""
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    answered = recent.loc[(recent["first_response_at"] < as_of).fillna(False).astype(bool)]
    hours = _hours(answered["first_response_at"] - answered["created_at"])
    return hours.groupby(answered["account_id"]).median()


def resolution_hours_median_90d(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Median hours from creation to resolution (resolved before ``as_of``). Window: 90 days."""
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    done = recent.loc[_resolved_before(recent, as_of)]
    return _hours(done["resolved_at"] - done["created_at"]).groupby(done["account_id"]).median()


def sla_breaches_90d(tickets: pd.DataFrame, *, as_of: pd.Timestamp, sla: SLAPolicy | None = None) -> pd.Series:
    """First-response SLA breaches known at ``as_of`` (deadline passed, no reply by it). Window: 90 days.

    Targets come from :class:`cxlens.config.SLAPolicy` by channel (and priority).
    """
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    breach = sla_breached(recent, as_of=as_of, sla=sla).astype(float)
    return breach.groupby(recent["account_id"]).sum()


def sla_breached(tickets: pd.DataFrame, *, as_of: pd.Timestamp, sla: SLAPolicy | None = None) -> pd.Series:
    """Per ticket, whether its first-response SLA was breached as known at ``as_of`` (the deadline passed
    before it with no reply by then)."""
    sla = sla or SLAPolicy()
    channel = tickets["channel"] if "channel" in tickets else pd.Series(None, index=tickets.index)
    priority = tickets["priority"] if "priority" in tickets else pd.Series(None, index=tickets.index)
    target = pd.Series([sla.target("first_response", c, p) for c, p in zip(channel, priority)],
                       index=tickets.index, dtype="float64")
    deadline = tickets["created_at"] + pd.to_timedelta(target, unit="s")
    reply = tickets["first_response_at"] if "first_response_at" in tickets else pd.Series(pd.NaT, index=tickets.index)
    known = (deadline < as_of).fillna(False)
    late = (reply.isna() | (reply > deadline)).fillna(True)
    return (known & late & target.notna()).astype(bool)


def script_adherence_mean_90d(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Mean ``script_adherence`` (0-100) on tickets resolved before ``as_of``. Window: 90 days."""
    recent = _window(tickets, "created_at", as_of=as_of, days=90)
    done = recent.loc[_resolved_before(recent, as_of)]
    return pd.to_numeric(done["script_adherence"], errors="coerce").groupby(done["account_id"]).mean()


def days_since_last_ticket(tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Days from the last ticket opened to ``as_of``. Window: all history before ``as_of``."""
    past = _window(tickets, "created_at", as_of=as_of, days=None)
    return (as_of - past.groupby("account_id")["created_at"].max()) / DAY


# ---------------------------------------------------------------- survey features


def _survey_mean(tickets: pd.DataFrame | None, surveys: pd.DataFrame | None, kind: str, *,
                 as_of: pd.Timestamp, days: float) -> pd.Series:
    parts = []
    if tickets is not None and kind in tickets and "resolved_at" in tickets:
        done = tickets.loc[_resolved_before(tickets, as_of)]
        done = _window(done, "resolved_at", as_of=as_of, days=days)
        parts.append(done.loc[done[kind].notna(), ["account_id", kind]].rename(columns={kind: "score"}))
    if surveys is not None and "account_id" in surveys:
        rows = _window(surveys.loc[surveys["kind"] == kind], "responded_at", as_of=as_of, days=days)
        parts.append(rows.loc[rows["account_id"].notna(), ["account_id", "score"]])
    if not parts:
        return pd.Series(dtype="float64")
    scores = pd.concat(parts, ignore_index=True)
    return scores.groupby("account_id")["score"].mean().astype("float64")


def csat_mean_180d(tickets: pd.DataFrame | None, surveys: pd.DataFrame | None, *, as_of: pd.Timestamp) -> pd.Series:
    """Mean CSAT (1-5) they gave: ticket answers of tickets resolved, and survey rows answered, in 180 days."""
    return _survey_mean(tickets, surveys, "csat", as_of=as_of, days=180)


def nps_mean_180d(tickets: pd.DataFrame | None, surveys: pd.DataFrame | None, *, as_of: pd.Timestamp) -> pd.Series:
    """Mean NPS answer (0-10) they gave. Window: 180 days (as :func:`csat_mean_180d`)."""
    return _survey_mean(tickets, surveys, "nps", as_of=as_of, days=180)


def ces_mean_180d(tickets: pd.DataFrame | None, surveys: pd.DataFrame | None, *, as_of: pd.Timestamp) -> pd.Series:
    """Mean customer effort (1-7, higher = more effort) they reported. Window: 180 days."""
    return _survey_mean(tickets, surveys, "ces", as_of=as_of, days=180)


# ---------------------------------------------------------------- message and account features


def customer_messages_90d(messages: pd.DataFrame, tickets: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Messages the customer sent (``author_role == "customer"``). Window: sent in the 90 days before ``as_of``."""
    sent = _window(messages.loc[messages["author_role"] == "customer"], "sent_at", as_of=as_of, days=90)
    account = sent["ticket_id"].map(tickets.drop_duplicates("ticket_id").set_index("ticket_id")["account_id"])
    return sent.groupby(account).size().astype("float64")


def tenure_days(accounts: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Days a customer at ``as_of`` (since ``signup_at``)."""
    return ((as_of - accounts["signup_at"]) / DAY).set_axis(accounts["account_id"])


def active_accounts(accounts: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """The accounts that were customers at ``as_of``: signed up before it and not churned before it."""
    keep = pd.Series(True, index=accounts.index)
    if "signup_at" in accounts:
        keep &= ~(accounts["signup_at"] >= as_of).fillna(False).astype(bool)
    if "churned_at" in accounts:
        keep &= ~(accounts["churned_at"] < as_of).fillna(False).astype(bool)
    return accounts.loc[keep]


def _static_account_features(accounts: pd.DataFrame, *, exclude: frozenset[str]) -> pd.DataFrame:
    """``plan``, ``mrr`` and every extra column usable as a feature (numbers, flags, small categories)."""
    out = {}
    for col in accounts.columns:
        if col in ACCOUNT_RESERVED or col in exclude or "churn" in str(col).lower():
            continue  # keys, dates, outputs, and anything named like a churn label
        values = accounts[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            continue
        if pd.api.types.is_bool_dtype(values):
            out[col] = values.astype("float64")
        elif pd.api.types.is_numeric_dtype(values):
            out[col] = values.astype("float64")
        else:
            values = values.where(~values.astype("string").str.strip().eq("").fillna(False), None)
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.notna().sum() == values.notna().sum() and values.notna().any():
                out[col] = numeric.astype("float64")
            elif 1 <= values.nunique(dropna=True) <= MAX_CATEGORY_LEVELS:
                out[col] = values.astype(object).where(values.notna(), None).astype(object)
    return pd.DataFrame(out, index=accounts.index).set_axis(accounts["account_id"].to_numpy(), axis=0)


TicketFeature = Callable[..., pd.Series]
# feature name -> (function, ticket columns it needs)
TICKET_FEATURES: dict[str, tuple[TicketFeature, tuple[str, ...]]] = {
    "ticket_volume_90d": (ticket_volume_90d, ()),
    "ticket_trend_30d": (ticket_trend_30d, ()),
    "days_since_last_ticket": (days_since_last_ticket, ()),
    "negative_sentiment_share_90d": (negative_sentiment_share_90d, ("sentiment",)),
    "sentiment_score_mean_90d": (sentiment_score_mean_90d, ("sentiment_score",)),
    "unresolved_tickets": (unresolved_tickets, ("resolved_at",)),
    "reopened_share_90d": (reopened_share_90d, ("reopened", "resolved_at")),
    "first_response_hours_median_90d": (first_response_hours_median_90d, ("first_response_at",)),
    "resolution_hours_median_90d": (resolution_hours_median_90d, ("resolved_at",)),
    "sla_breaches_90d": (sla_breaches_90d, ("first_response_at", "channel")),
    "script_adherence_mean_90d": (script_adherence_mean_90d, ("script_adherence", "resolved_at")),
}
# Every ticket column a feature reads: the keys, the windows' dates, the SLA policy's keys, the survey answers.
#: every ticket column the features read (the rest of a scored ticket table is never copied into them)
FEATURE_TICKET_COLUMNS = frozenset({"ticket_id", "account_id", "created_at", "priority", "csat", "nps", "ces"}
                                    .union(*(needs for _, needs in TICKET_FEATURES.values())))
# Counts that are 0 (not unknown) for an account with no tickets in the window.
ZERO_WHEN_ABSENT = ("ticket_volume_90d", "ticket_trend_30d", "unresolved_tickets", "sla_breaches_90d",
                    "customer_messages_90d")


def build_features(tables: FeatureTables, *, as_of: str | pd.Timestamp, sla: SLAPolicy | None = None,
                   exclude: tuple[str, ...] = (), population: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per account active at ``as_of`` (index ``account_id``), one column per usable feature.

    ``exclude`` names account columns not to use (e.g. the label column).
    ``population`` overrides which accounts get a row (default: :func:`active_accounts`).
    Raises :class:`~cxlens.errors.DataError` when no feature can be computed at all.
    """
    as_of = as_utc(as_of)
    accounts = tables.accounts
    if "account_id" not in accounts:
        raise DataError("The accounts table has no account_id column; it cannot be scored.")
    people = active_accounts(accounts, as_of=as_of) if population is None else population
    if not len(people):
        raise DataError(f"No account was a customer at {as_of:%Y-%m-%d} (signed up before it and not churned "
                        "before it); choose another {as_of} date.", params=("as_of",))
    index = pd.Index(people["account_id"].astype(str).to_numpy(), name="account_id")
    columns: dict[str, pd.Series] = {}

    static = _static_account_features(people, exclude=frozenset(exclude))
    for col in static:
        columns[col] = static[col]
    if "signup_at" in people and people["signup_at"].notna().any():
        columns["tenure_days"] = tenure_days(people, as_of=as_of)

    tickets = _with_account(tables.tickets)
    if tickets is not None:
        for name, (func, needs) in TICKET_FEATURES.items():
            if all(c in tickets for c in needs):
                kwargs = {"sla": sla} if name == "sla_breaches_90d" else {}
                columns[name] = func(tickets, as_of=as_of, **kwargs)
        if tables.messages is not None and len(tables.messages):
            columns["customer_messages_90d"] = customer_messages_90d(tables.messages, tickets, as_of=as_of)
    surveys = tables.surveys
    for name, func in (("csat_mean_180d", csat_mean_180d), ("nps_mean_180d", nps_mean_180d),
                       ("ces_mean_180d", ces_mean_180d)):
        kind = name.split("_")[0]
        has_ticket_answers = tickets is not None and kind in tickets
        has_survey_answers = surveys is not None and "account_id" in surveys and (surveys["kind"] == kind).any()
        if has_ticket_answers or has_survey_answers:
            columns[name] = func(tickets, surveys, as_of=as_of)

    frame = pd.DataFrame(index=index)
    for name, series in columns.items():
        series = series[~series.index.duplicated()]
        values = series.reindex(index)
        if name in ZERO_WHEN_ABSENT:
            values = values.fillna(0.0)
        frame[name] = values
    if not any(frame[c].notna().any() for c in frame.columns):
        raise DataError(
            "No usable feature for the churn model: the accounts table has no feature columns "
            "(plan, mrr, signup_at or extra numeric/categorical columns) and no tickets with "
            "account_id were given. Give {tickets} (with account_id) or add account columns.", params=("tickets",)
        )
    return frame
