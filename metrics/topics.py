"""KPIs a per-topic view needs beside the service ones: reopen rate, CSAT coverage, the accounts most affected.

They are ordinary ticket KPIs (computed for any group, not only topics); the topic page of the
dashboard reads them through ``compute_kpis(..., by=["topic"])`` with the others.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.dataset import ticket_positions
from cxlens.metrics._measures import flags, share_measure
from cxlens.metrics._registry import Measure, Tables, register_kpi
from cxlens.metrics.satisfaction import responses

__all__ = ["TOP_ACCOUNTS", "csat_coverage", "reopen_rate", "top_accounts_by_tickets"]

#: how many accounts ``top_accounts_by_tickets`` lists
TOP_ACCOUNTS = 5


@register_kpi(name="reopen_rate", unit="%", direction="lower",
              formula="reopened tickets / tickets with reopened known x 100",
              requires=("tickets.reopened",), category="resolution")
def reopen_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Reopen rate: tickets reopened after being solved, in % of the tickets whose flag is known."""
    tickets = tables.tickets
    known, reopened = flags(tickets, "reopened")
    return share_measure(reopened, known, tickets["ticket_id"])


@register_kpi(name="csat_coverage", unit="%", direction="higher",
              formula="tickets with a CSAT answer (within csat_scale) / tickets x 100",
              requires=("tickets.ticket_id", "tickets.csat|surveys.score"), category="satisfaction")
def csat_coverage(tables: Tables, config: KPIConfig) -> Measure:
    """CSAT coverage: tickets with a CSAT answer, in % of the tickets (how far to trust the CSAT beside it).

    Answers are those ``csat`` counts (surveys of kind csat when there are any, else ``tickets.csat``,
    within ``csat_scale``); a survey without a ``ticket_id`` covers no ticket.
    """
    tickets = tables.tickets
    answers = responses(tables, "csat")
    low, high = config.csat_scale
    answers = answers.loc[answers["score"].between(low, high).to_numpy()]
    answered = answers["ticket_id"] if "ticket_id" in answers else answers["score"].iloc[0:0]
    # an Arrow hash lookup (pandas' isin on string ids is ten times slower at 1M tickets)
    ids, answered = tickets["ticket_id"], answered.dropna()
    if not (pd.api.types.is_string_dtype(ids) and pd.api.types.is_string_dtype(answered)):  # e.g. integer ids
        ids, answered = ids.astype("string"), answered.astype("string")
    hit = ticket_positions(answered, ids) >= 0
    return share_measure(hit, np.ones(len(tickets), dtype=bool), tickets["ticket_id"])


@register_kpi(name="top_accounts_by_tickets", unit="table", direction="neutral",
              formula="count(tickets) per account_id; the 5 accounts with the most tickets (ties by id)",
              requires=("tickets.account_id",), category="volume")
def top_accounts_by_tickets(tables: Tables, config: KPIConfig) -> Measure:
    """Accounts most affected: the five accounts with the most tickets, with their ticket counts."""
    tickets = tables.tickets
    accounts = tickets["account_id"]
    known = accounts.notna().to_numpy()
    if not known.any():
        return Measure(value={}, n=0)
    counts = accounts[known].astype(str).value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="mergesort").head(TOP_ACCOUNTS)
    top = accounts.astype(str).isin(counts.index).to_numpy() & known
    return Measure(value={str(k): int(v) for k, v in counts.items()}, n=int(known.sum()),
                   ids=tickets["ticket_id"][top])
