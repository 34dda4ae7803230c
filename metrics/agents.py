"""Agent KPIs: who performs best on resolution, satisfaction, volume and speed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.dataset import ticket_positions
from cxlens.metrics._measures import numbers
from cxlens.metrics._partials import Groups, csat_surveys
from cxlens.metrics._registry import Measure, PlainRows, Tables, register_grouped, register_kpi
from cxlens.metrics.resolution import fcr_flags
from cxlens.metrics.satisfaction import responses

__all__ = ["agent_scorecard", "top_performers"]

# metric -> True when higher is better
RANKED = {"fcr_rate": True, "csat": True, "resolved": True, "average_handle_time_s": False}


def _per_agent(codes: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of ``weights`` (count when None) per agent code; code -1 (no agent) is dropped."""
    keep = codes >= 0
    return np.bincount(codes[keep], weights=None if weights is None else weights[keep], minlength=size)


def _csat_by_agent(tables: Tables, config: KPIConfig, tickets: pd.DataFrame, agents: pd.Index) -> np.ndarray:
    """Per agent: % CSAT answers >= threshold (answers tied to agents directly or via their ticket)."""
    answers = responses(tables, "csat")
    out = np.full(len(agents), np.nan)
    if not len(answers):
        return out
    agent = answers["agent_id"] if "agent_id" in answers else pd.Series(None, index=answers.index, dtype=object)
    if "ticket_id" in answers and agent.isna().any():
        by_ticket = pd.Series(tickets["agent_id"].to_numpy(), index=tickets["ticket_id"].to_numpy())
        agent = agent.astype(object).fillna(answers["ticket_id"].map(by_ticket[~by_ticket.index.duplicated()]))
    codes = agents.get_indexer(agent.to_numpy())
    satisfied = (answers["score"].to_numpy() >= config.csat_threshold).astype(np.float64)
    n = _per_agent(codes, len(agents))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 100.0 * _per_agent(codes, len(agents), satisfied) / n
    return np.where(n > 0, out, np.nan)


def agent_scorecard(tables: Tables, config: KPIConfig) -> pd.DataFrame:
    """One row per agent: tickets, resolved, fcr_rate, csat, average_handle_time_s (unranked, all agents)."""
    tickets = tables.tickets
    codes, names = pd.factorize(tickets["agent_id"], sort=True)
    agents = pd.Index(names, name="agent_id")
    size = len(agents)
    card = pd.DataFrame({"tickets": _per_agent(codes, size)}, index=agents, dtype="float64")
    card["resolved"] = np.nan
    card["fcr_rate"] = np.nan
    if "resolved_at" in tickets:
        card["resolved"] = _per_agent(codes, size, tickets["resolved_at"].notna().to_numpy(dtype=np.float64))
        eligible, hit = fcr_flags(tickets)
        eligible_n = _per_agent(codes, size, eligible.astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            card["fcr_rate"] = np.where(eligible_n > 0,
                                        100.0 * _per_agent(codes, size, hit.astype(np.float64)) / eligible_n, np.nan)
    card["csat"] = _csat_by_agent(tables, config, tickets, agents)
    seconds = numbers(tickets, "handle_time_s").to_numpy()
    handled = seconds > 0
    handled_n = _per_agent(codes, size, handled.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        total = _per_agent(codes, size, np.where(handled, seconds, 0.0))
        card["average_handle_time_s"] = np.where(handled_n > 0, total / handled_n, np.nan)
    return card


@register_kpi(name="top_performers", unit="table", direction="neutral",
              formula="agents with >= top_performers_min_n tickets ranked by the mean percentile of "
                      "FCR, CSAT, resolved volume and handle time (lower is better)",
              requires=("tickets.agent_id",), category="agents")
def top_performers(tables: Tables, config: KPIConfig) -> Measure:
    """Top performers: agents ranked by FCR, CSAT, resolved volume and handle time (best first).

    Only agents with at least ``top_performers_min_n`` tickets are ranked.  Each
    metric is turned into a percentile rank among them (ties share the average
    rank; handle time ranks lower-is-better); ``score`` is the mean of the
    agent's available percentiles x 100.  Rows: rank, agent_id, tickets, resolved,
    fcr_rate, csat, average_handle_time_s, score.
    """
    card = agent_scorecard(tables, config)
    card = card.loc[card["tickets"] >= config.top_performers_min_n]
    if not len(card):
        return Measure(value=None, n=0, id_kind="agent_id")
    ranks = pd.DataFrame({metric: card[metric].rank(method="average", pct=True, ascending=higher)
                          for metric, higher in RANKED.items()})
    card = card.assign(score=100.0 * ranks.mean(axis=1, skipna=True)).reset_index()
    card = card.sort_values(["score", "resolved", "agent_id"], ascending=[False, False, True],
                            na_position="last", kind="mergesort")
    card.insert(0, "rank", range(1, len(card) + 1))
    rows = _records(card)
    return Measure(value=rows, n=len(rows), ids=card["agent_id"].reset_index(drop=True), id_kind="agent_id")


def _records(card: pd.DataFrame) -> PlainRows:
    """The ranked card as JSON-ready rows (missing -> None, counts as int), built column by column."""
    columns = {}
    for name in card.columns:
        values = [_plain_value(v) for v in card[name].tolist()]  # tolist leaves NA and numpy scalars in objects
        columns[name] = [None if v is None else int(v) for v in values] if name in ("tickets", "resolved") \
            else values
    names = list(columns)
    return PlainRows(dict(zip(names, row)) for row in zip(*(columns[n] for n in names)))


def _plain_value(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and value != value else value


# --- top_performers for every group at once: one card of (group, agent) pairs, ranked within each group ---

def _csat_pairs(groups: Groups, config: KPIConfig, pair_of, agent_names: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Per (group, agent) pair: CSAT answers and satisfied ones, read as _csat_by_agent reads each group."""
    tables = groups.tables
    tickets = tables.tickets
    group = groups.codes["tickets"]
    ticket_agent = agent_names.get_indexer(tickets["agent_id"].to_numpy())
    chunks = []  # (group, agent code, score) of the answers taken
    surveys = tables.surveys
    survey_group = groups.codes.get("surveys")
    kind, present = csat_surveys(groups)
    if kind is not None:
        score = numbers(surveys, "score").to_numpy()
        take = kind & (survey_group >= 0) & ~np.isnan(score)
        take &= present[np.maximum(survey_group, 0)]
        agent = (agent_names.get_indexer(surveys["agent_id"].to_numpy()) if "agent_id" in surveys
                 else np.full(len(surveys), -1))
        unknown = surveys["agent_id"].isna().to_numpy() if "agent_id" in surveys else np.ones(len(surveys), bool)
        if "ticket_id" in surveys:
            row = ticket_positions(tickets["ticket_id"], surveys["ticket_id"])
            same_group = (row >= 0) & (group[np.maximum(row, 0)] == survey_group)
            agent = np.where(unknown & same_group, ticket_agent[np.maximum(row, 0)], agent)
        chunks.append((survey_group[take], agent[take], score[take]))
    if "csat" in tickets:
        score = numbers(tickets, "csat").to_numpy()
        take = (group >= 0) & ~present[np.maximum(group, 0)] & ~np.isnan(score)
        chunks.append((group[take], ticket_agent[take], score[take]))
    size = len(pair_of)
    answers = np.zeros(size)
    satisfied = np.zeros(size)
    for g, agent, score in chunks:
        pair = pair_of.get_indexer(g * max(len(agent_names), 1) + agent)
        keep = (agent >= 0) & (pair >= 0)
        answers += np.bincount(pair[keep], minlength=size)
        satisfied += np.bincount(pair[keep], weights=(score[keep] >= config.csat_threshold).astype(np.float64),
                                 minlength=size)
    return answers, satisfied


@register_grouped("top_performers")
def _top_performers_groups(groups: Groups, config: KPIConfig):
    tickets = groups.tables.tickets
    group = groups.codes["tickets"]
    agent, agent_names = pd.factorize(tickets["agent_id"], sort=True)
    agent_names = pd.Index(agent_names)
    width = max(len(agent_names), 1)
    inside = (group >= 0) & (agent >= 0)
    keys = group[inside] * width + agent[inside]
    pairs, pair = np.unique(keys, return_inverse=True)
    pair_of = pd.Index(pairs)
    size = len(pairs)

    def per_pair(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(pair, weights=None if weights is None else weights[inside], minlength=size)

    card = pd.DataFrame({"g": pairs // width, "agent_id": np.asarray(agent_names, dtype=object)[pairs % width],
                         "tickets": per_pair().astype(np.float64)})
    card["resolved"] = np.nan
    card["fcr_rate"] = np.nan
    if "resolved_at" in tickets:
        card["resolved"] = per_pair(tickets["resolved_at"].notna().to_numpy(dtype=np.float64))
        eligible, hit = fcr_flags(tickets)
        eligible_n = per_pair(eligible.astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            card["fcr_rate"] = np.where(eligible_n > 0, 100.0 * per_pair(hit.astype(np.float64)) / eligible_n, np.nan)
    answers, satisfied = _csat_pairs(groups, config, pair_of, agent_names)
    with np.errstate(invalid="ignore", divide="ignore"):
        card["csat"] = np.where(answers > 0, 100.0 * satisfied / answers, np.nan)
    seconds = numbers(tickets, "handle_time_s").to_numpy()
    handled = seconds > 0
    handled_n = per_pair(handled.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        total = per_pair(np.where(handled, seconds, 0.0))
        card["average_handle_time_s"] = np.where(handled_n > 0, total / handled_n, np.nan)
    card = card.loc[card["tickets"] >= config.top_performers_min_n]
    ranks = pd.DataFrame({metric: card.groupby("g")[metric].rank(method="average", pct=True, ascending=higher)
                          for metric, higher in RANKED.items()})
    card = card.assign(score=100.0 * ranks.mean(axis=1, skipna=True))
    card = card.sort_values(["g", "score", "resolved", "agent_id"], ascending=[True, False, False, True],
                            na_position="last", kind="mergesort")
    card.insert(0, "rank", card.groupby("g").cumcount() + 1)
    owners = card["g"].to_numpy()
    values: list = [None] * groups.size
    for g, record in zip(owners.tolist(), _records(card.drop(columns="g"))):
        if values[g] is None:
            values[g] = PlainRows()
        values[g].append(record)
    return values, np.bincount(owners, minlength=groups.size)
