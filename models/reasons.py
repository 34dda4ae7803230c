"""Reasons a customer-success manager can act on: signals on their risk-raising side, against peers.

:func:`account_reasons` turns an :class:`~cxlens.models.explain.Explanation` into up to ``k`` reasons per
account. A feature is cited only when all of these hold:

* it is a **signal** (:mod:`cxlens.models.signals`: CSAT, NPS, effort, sentiment, open tickets, SLA
  breaches, reopens, response times, usage, contact volume); plan, MRR, seats and the other account
  descriptors never are;
* the model says it **raises** this account's risk (contribution > 0);
* its value is on the **risk-raising side**: past the signal's own line (a CSAT below 4, an NPS of 0-6,
  an effort above 4 of 7, at least one open ticket) or, for signals without one, worse than the peers
  (the median of the accounts scored; usage against accounts on the same plan).

Each reason is phrased against the peers or the account's own history ("logins 30d 3, peers on the
growth plan 27", "2 tickets open, the oldest for 12 days", "last CSAT 1 of 5, the first bad rating this
year") and lists the tickets behind it (:func:`reason_evidence`). An account with no signal to cite gets
one line saying so, naming the profile columns (never plan, MRR or seats) that drive its risk.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cxlens.config import SLAPolicy
from cxlens.models.explain import Explanation, Reason
from cxlens.models.features import sla_breached
from cxlens.models.signals import BEHAVIOUR, SIGNALS, is_descriptor, on_risk_side, signal_for

__all__ = ["EVIDENCE_TICKET_COLUMNS", "NEVER_CITED", "account_reasons", "peer_references", "reason_evidence"]

#: account columns that describe size and price: never cited, not even in the profile line
NEVER_CITED = frozenset({"plan", "mrr", "seats", "tenure_days"})
_PEER_GROUP = "plan"
_MIN_GROUP = 5


def _hours(h: float) -> str:
    return f"{h / 24:.1f} days" if h >= 48 else f"{h:.1f} hours"


def _toward(v: float, bad: int) -> float:
    """``v`` to one decimal, rounded toward its bad side (``bad`` -1: down, +1: up), so a value past a
    signal's line never prints on the line itself (a CSAT of 3.96 is "3.9 of 5", not "4.0")."""
    return (math.floor(v * 10 + 1e-9) if bad < 0 else math.ceil(v * 10 - 1e-9)) / 10


def _n(v: float, one: str, many: str) -> str:
    return f"{v:.0f} {one if round(v) == 1 else many}"


def peer_references(features: pd.DataFrame) -> pd.DataFrame:
    """Per account and signal, the peers' median: the accounts scored, or those on the same plan for usage
    columns of the accounts table (when the group has at least 5 accounts)."""
    out = pd.DataFrame(index=features.index)
    group = features[_PEER_GROUP].astype(object) if _PEER_GROUP in features else None
    for col in features.columns:
        if signal_for(col) is None or not pd.api.types.is_numeric_dtype(features[col]):
            continue
        values = features[col].astype("float64")
        reference = pd.Series(values.median(), index=features.index)
        if group is not None and col not in SIGNALS and col not in BEHAVIOUR:  # a usage column
            sizes = values.groupby(group).transform("count")
            reference = values.groupby(group).transform("median").where(sizes >= _MIN_GROUP, reference)
        out[col] = reference
    return out


def _phrase(feature: str, v: float, peer: float | None, plan: object, history: dict) -> str:
    p = "" if peer is None or math.isnan(peer) else peer
    if feature == "csat_mean_180d":
        text = f"CSAT {_toward(v, -1):.1f} of 5 over the last 180 days" + (f" (peers {p:.1f})" if p != "" else "")
        if history.get("last_csat") is not None:
            first = " the first bad rating this year" if history.get("bad_csat_year", 0) <= 1 else \
                f" {history['bad_csat_year']} bad ratings this year"
            text += f"; last rating {history['last_csat']:.0f} of 5,{first}"
        return text
    if feature == "nps_mean_180d":
        return f"NPS answer {_toward(v, -1):.1f} of 10 (detractor)" + (f", peers {p:.1f}" if p != "" else "")
    if feature == "ces_mean_180d":
        return f"customer effort {_toward(v, 1):.1f} of 7 (high effort)" + (f", peers {p:.1f}" if p != "" else "")
    if feature == "negative_sentiment_share_90d":
        return f"negative sentiment in {v:.0%} of recent tickets" + (f" (peers {p:.0%})" if p != "" else "")
    if feature == "sentiment_score_mean_90d":
        return f"ticket sentiment {v:+.2f} on average in 90 days" + (f" (peers {p:+.2f})" if p != "" else "")
    if feature == "unresolved_tickets":
        oldest = history.get("oldest_open_days")
        return _n(v, "ticket open", "tickets open") + (f", the oldest for {oldest:.0f} days" if oldest else "")
    if feature == "sla_breaches_90d":
        return _n(v, "first reply", "first replies") + " later than the SLA in the last 90 days"
    if feature == "reopened_share_90d":
        return f"{v:.0%} of solved tickets reopened in 90 days" + (f" (peers {p:.0%})" if p != "" else "")
    if feature == "first_response_hours_median_90d":
        return f"first replies took {_hours(v)} (median)" + (f", peers {_hours(p)}" if p != "" else "")
    if feature == "resolution_hours_median_90d":
        return f"tickets took {_hours(v)} to resolve (median)" + (f", peers {_hours(p)}" if p != "" else "")
    if feature == "script_adherence_mean_90d":
        return f"agents followed the script {v:.0f}/100" + (f", peers {p:.0f}" if p != "" else "")
    if feature == "ticket_volume_90d":
        return _n(v, "ticket", "tickets") + " in 90 days" + (f" (peers {p:.0f})" if p != "" else "")
    if feature == "ticket_trend_30d":
        return f"contact up {math.exp(v) - 1:.0%} in the last 30 days vs the 60 days before"
    if feature == "customer_messages_90d":
        return _n(v, "customer message", "customer messages") + " in 90 days" + (f" (peers {p:.0f})" if p != "" else "")
    # a usage column of the accounts table: lower than the peers
    name = feature.replace("_", " ")
    if p == "":
        return f"{name} {v:,.4g}"
    fall = f", {1 - v / p:.0%} below" if p > 0 else ""
    who = f"peers on the {plan} plan" if plan not in (None, "missing") and isinstance(plan, str) else "peers"
    return f"{name} {v:,.4g}{fall} {who} ({p:,.4g})"


#: the ticket columns :func:`reason_evidence` reads (``channel`` and ``priority``: the SLA targets)
EVIDENCE_TICKET_COLUMNS = frozenset({"ticket_id", "account_id", "created_at", "resolved_at", "csat", "reopened",
                                     "sentiment", "first_response_at", "channel", "priority"})


def reason_evidence(tickets: pd.DataFrame | None, *, as_of: pd.Timestamp,
                    sla: SLAPolicy | None = None) -> dict[str, dict[str, object]]:
    """The tickets behind the reasons and the account's own history, per account id, in the windows of the
    features they explain: ``open`` / ``low_csat`` / ``reopened`` / ``negative`` / ``sla`` (first reply
    later than the SLA) / ``quarter`` (90 days) / ``month`` (30 days) ticket ids (newest first),
    ``oldest_open_days``, ``last_csat`` (the last rating, when it was bad) and ``bad_csat_year`` (bad
    ratings in 365 days)."""
    if tickets is None or "account_id" not in tickets or "created_at" not in tickets:
        return {}
    year = (tickets["account_id"].notna() & (tickets["created_at"] < as_of)
            & (tickets["created_at"] >= as_of - pd.Timedelta(days=365))).to_numpy(dtype=bool)
    # only the columns read below: on a big archive the year's tickets are most of them, copied here
    t = tickets.loc[year, [c for c in tickets.columns if c in EVIDENCE_TICKET_COLUMNS]]
    t = t.sort_values("created_at", ascending=False)
    resolved = (t["resolved_at"] < as_of).fillna(False).astype(bool) if "resolved_at" in t else \
        pd.Series(False, index=t.index)
    recent = (t["created_at"] >= as_of - pd.Timedelta(days=180)).to_numpy()
    quarter = (t["created_at"] >= as_of - pd.Timedelta(days=90)).to_numpy()
    masks = {"open": (~resolved).to_numpy() & recent, "quarter": quarter,
             "month": (t["created_at"] >= as_of - pd.Timedelta(days=30)).to_numpy()}
    if "csat" in t:
        masks["low_csat"] = ((t["csat"] <= 2).fillna(False).astype(bool) & resolved).to_numpy() & recent
    if "reopened" in t:
        masks["reopened"] = (t["reopened"].fillna(False).astype(bool) & resolved).to_numpy() & quarter
    if "sentiment" in t:
        masks["negative"] = (t["sentiment"] == "negative").fillna(False).astype(bool).to_numpy() & quarter
    if "first_response_at" in t:
        masks["sla"] = sla_breached(t, as_of=as_of, sla=sla).to_numpy() & quarter
    out: dict[str, dict[str, object]] = {}
    listed = np.logical_or.reduce(list(masks.values()))  # ids as Python strings only for the rows listed
    ids = t.loc[listed, "ticket_id"].astype(str).to_numpy()
    accounts = t.loc[listed, "account_id"].astype(str).to_numpy()
    for kind, mask in masks.items():
        for account, ticket in zip(accounts[mask[listed]], ids[mask[listed]]):
            out.setdefault(account, {}).setdefault(kind, []).append(ticket)
    if masks["open"].any():
        age = ((as_of - t.loc[masks["open"], "created_at"]) / pd.Timedelta(days=1)).groupby(
            t.loc[masks["open"], "account_id"].astype(str)).max()
        for account, days in age.items():
            out.setdefault(account, {})["oldest_open_days"] = float(days)
    if "low_csat" in masks:
        rated = t.loc[resolved.to_numpy() & t["csat"].notna().to_numpy()]  # the last 365 days
        last = rated.groupby(rated["account_id"].astype(str))["csat"].first()
        bad = rated.loc[rated["csat"] <= 2].groupby(rated["account_id"].astype(str)).size()
        for account, score in last.items():
            if score <= 2:
                out.setdefault(account, {}).update(last_csat=float(score), bad_csat_year=int(bad.get(account, 0)))
    return out


_EVIDENCE = {"unresolved_tickets": "open", "csat_mean_180d": "low_csat", "reopened_share_90d": "reopened",
             "negative_sentiment_share_90d": "negative", "sentiment_score_mean_90d": "negative",
             "sla_breaches_90d": "sla", "ticket_volume_90d": "quarter", "customer_messages_90d": "quarter",
             "ticket_trend_30d": "month", "first_response_hours_median_90d": "quarter",
             "resolution_hours_median_90d": "quarter"}


def account_reasons(explanation: Explanation, features: pd.DataFrame, *, k: int = 3,
                    evidence: dict[str, dict[str, object]] | None = None,
                    max_tickets: int = 5) -> list[list[Reason]]:
    """Per account (the rows of ``features``), up to ``k`` reasons: risk-raising signals only (see the module
    docstring), largest contribution first, each with the tickets behind it."""
    evidence = evidence or {}
    values = explanation.values
    peers = peer_references(features)
    plans = features[_PEER_GROUP].astype(object).to_numpy() if _PEER_GROUP in features else \
        np.full(len(features), None)
    if explanation.contributions is not None:
        contributions = explanation.contributions
    else:  # global importance only: every feature counts as pushing up, ordered by importance
        order = {f: -i for i, f in enumerate(explanation.global_importance.index)}
        contributions = pd.DataFrame({f: np.full(len(values), 1e-9 * (len(order) + order.get(f, -len(order))))
                                      for f in values.columns}, index=values.index)
    columns = list(contributions.columns)
    matrix = contributions.to_numpy(dtype=float)
    # only signals can be cited: their values and peers as plain float matrices (one pass, not per cell)
    cited = np.array([signal_for(c) is not None and not is_descriptor(c) for c in columns])
    numbers = np.full(matrix.shape, np.nan)
    reference = np.full(matrix.shape, np.nan)
    for j in np.flatnonzero(cited):
        numbers[:, j] = pd.to_numeric(values[columns[j]], errors="coerce").to_numpy(dtype=float)
        if columns[j] in peers:
            reference[:, j] = peers[columns[j]].to_numpy(dtype=float)
    candidates = np.where(cited & (matrix > 0) & ~np.isnan(numbers), matrix, -np.inf)
    order = np.argsort(-candidates, axis=1, kind="stable")
    rows: list[list[Reason]] = []
    for i, account in enumerate(features.index.astype(str)):
        history = evidence.get(account, {})
        chosen: list[Reason] = []
        for j in order[i]:
            if len(chosen) == k or candidates[i, j] == -np.inf:
                break
            feature, value, peer = columns[j], float(numbers[i, j]), float(reference[i, j])
            peer = None if math.isnan(peer) else peer
            if not on_risk_side(feature, value, peer):
                continue
            text = _phrase(feature, value, peer, plans[i], history)
            tickets = tuple(history.get(_EVIDENCE.get(feature, ""), [])[:max_tickets])
            chosen.append(Reason(feature, value, float(matrix[i, j]), text, tickets))
        if not chosen:
            chosen = _profile_line(columns, matrix[i], values.iloc[i])
        rows.append(chosen)
    return rows


def _profile_line(columns: list[str], contributions: np.ndarray, values: pd.Series) -> list[Reason]:
    """One line for an account with no signal to cite: the profile columns that raise its risk."""
    drivers = [(columns[j], values[columns[j]]) for j in np.argsort(-contributions, kind="stable")
               if contributions[j] > 0 and is_descriptor(columns[j]) and columns[j] not in NEVER_CITED
               and isinstance(values[columns[j]], str) and values[columns[j]] != "missing"][:2]
    if not drivers:
        return []
    profile = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in drivers)
    return [Reason("profile", profile, float(contributions.max()),
                   f"no warning sign in support or usage; accounts like this one churn more ({profile})")]
