"""The per-topic view's KPIs (:mod:`cxlens.metrics.topics`) for every group at once, for grouped reports.

Kept beside the partial aggregates rather than in the KPI module; the equality test
(tests/metrics/test_grouped_partials.py) holds them to the KPI functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.dataset import ticket_positions
from cxlens.metrics._measures import flags, numbers, share_rows
from cxlens.metrics._partials import Groups, Rows, csat_surveys, reduce_rows
from cxlens.metrics._registry import Tables, register_grouped, register_rows
from cxlens.metrics.topics import TOP_ACCOUNTS

__all__: list[str] = []



@register_rows("reopen_rate")
def _reopen_rows(tables: Tables, config: KPIConfig) -> Rows:
    known, reopened = flags(tables.tickets, "reopened")
    return share_rows("tickets", reopened, known)


@register_grouped("csat_coverage")
def _coverage_groups(groups: Groups, config: KPIConfig):
    """Per group: its tickets with an in-scale CSAT answer among the group's answers (as responses() picks)."""
    tables = groups.tables
    tickets = tables.tickets
    group = groups.codes["tickets"]
    low, high = config.csat_scale
    covered = np.zeros(len(tickets), dtype=bool)
    surveys = tables.surveys
    survey_group = groups.codes.get("surveys")
    kind, present = csat_surveys(groups)
    if kind is not None:
        if "ticket_id" in surveys:
            score = numbers(surveys, "score").to_numpy()
            with np.errstate(invalid="ignore"):
                answered = kind & (survey_group >= 0) & (score >= low) & (score <= high)
            # a ticket is covered by an in-scale answer of its own group that names its id
            # (ids as the row of their first ticket, so duplicated ids match as isin matches them)
            ids = ticket_positions(tickets["ticket_id"], tickets["ticket_id"])
            named = ticket_positions(tickets["ticket_id"], surveys["ticket_id"][answered])
            width = len(tickets) + 1
            answer_keys = survey_group[answered].astype(np.int64) * width + named
            ticket_keys = group.astype(np.int64) * width + ids
            covered = (group >= 0) & (ids >= 0) & np.isin(ticket_keys, answer_keys[named >= 0])
    if "csat" in tickets:
        score = numbers(tickets, "csat").to_numpy()
        with np.errstate(invalid="ignore"):
            own = (score >= low) & (score <= high)
        use_tickets = (group >= 0) & ~present[np.maximum(group, 0)]
        covered = np.where(use_tickets, own, covered)
    return reduce_rows(share_rows("tickets", covered, np.ones(len(tickets), dtype=bool)), groups)


@register_grouped("top_accounts_by_tickets")
def _top_accounts_groups(groups: Groups, config: KPIConfig):
    tickets = groups.tables.tickets
    group = groups.codes["tickets"]
    accounts = tickets["account_id"]
    known = accounts.notna().to_numpy() & (group >= 0)
    n = np.bincount(group[known], minlength=groups.size)
    # account codes in the order of their names as text (sort_index's order), counted per (group, account)
    account, names = pd.factorize(accounts[known].astype(str), sort=True)
    width = max(len(names), 1)
    pairs, counts = np.unique(group[known].astype(np.int64) * width + account, return_counts=True)
    owner, account = pairs // width, pairs % width
    order = np.lexsort((account, -counts, owner))
    owner, account, counts = owner[order], account[order], counts[order]
    first = np.searchsorted(owner, owner, side="left")
    top = np.arange(len(owner)) - first < TOP_ACCOUNTS
    values: list = [{} for _ in range(groups.size)]
    names = np.asarray(names, dtype=object)
    for g, name, count in zip(owner[top].tolist(), names[account[top]].tolist(), counts[top].tolist()):
        values[g][str(name)] = int(count)
    return values, n
