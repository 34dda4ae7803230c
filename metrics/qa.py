"""Quality-assurance KPIs from the script checker: adherence, auto-fails, consistency across agents.

The QA pipeline adds ``script_adherence`` (0-100, weighted share of the
scorecard's steps the agent followed) and ``auto_fail`` (an auto-fail item was
hit) per ticket; tickets without a score are not counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._measures import flags, mean_measure, numbers, share_measure, share_rows
from cxlens.metrics._partials import Groups, Rows
from cxlens.metrics._registry import Measure, Tables, register_grouped, register_kpi, register_rows

__all__ = ["agent_consistency", "auto_fail_rate", "script_adherence_rate"]


@register_kpi(name="script_adherence_rate", unit="%", direction="higher",
              formula="mean(script_adherence) over scored tickets, 0-100",
              requires=("tickets.script_adherence",), category="quality")
def script_adherence_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Script adherence: mean adherence score (0-100) of the scored conversations."""
    tickets = tables.tickets
    return mean_measure(numbers(tickets, "script_adherence"), tickets["ticket_id"])


@register_kpi(name="auto_fail_rate", unit="%", direction="lower",
              formula="tickets with an auto-fail / tickets with auto_fail known x 100",
              requires=("tickets.auto_fail",), category="quality")
def auto_fail_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Auto-fail rate: scored conversations that hit an auto-fail item (forbidden phrase, skipped check), in %."""
    tickets = tables.tickets
    known, failed = flags(tickets, "auto_fail")
    return share_measure(failed, known, tickets["ticket_id"])


@register_kpi(name="agent_consistency", unit="score", direction="lower",
              formula="population std. dev. of per-agent mean script_adherence, over agents with "
                      ">= top_performers_min_n scored tickets (points)",
              requires=("tickets.script_adherence", "tickets.agent_id"), category="quality")
def agent_consistency(tables: Tables, config: KPIConfig) -> Measure:
    """Agent consistency: spread of the agents' mean script adherence, in points (0 = all alike).

    Each agent with at least ``top_performers_min_n`` scored tickets gets a
    mean adherence; the value is the population standard deviation (ddof=0) of
    those means.  ``ids`` are the agents compared.
    """
    tickets = tables.tickets
    scores = numbers(tickets, "script_adherence").to_numpy()
    codes, agents = pd.factorize(tickets["agent_id"])
    scored = (codes >= 0) & ~np.isnan(scores)
    count = np.bincount(codes[scored], minlength=len(agents))
    total = np.bincount(codes[scored], weights=scores[scored], minlength=len(agents))
    compared = count >= max(config.top_performers_min_n, 1)
    if not compared.any():
        return Measure(value=None, n=0, id_kind="agent_id")
    means = total[compared] / count[compared]
    ids = pd.Series(np.asarray(agents, dtype=object)[compared], dtype=object)
    return Measure(value=float(np.std(means)), n=int(compared.sum()), ids=ids, id_kind="agent_id")


@register_rows("script_adherence_rate")
def _adherence_rows(tables: Tables, config: KPIConfig) -> Rows:
    return Rows("tickets", numbers(tables.tickets, "script_adherence").to_numpy())


@register_rows("auto_fail_rate")
def _auto_fail_rows(tables: Tables, config: KPIConfig) -> Rows:
    known, failed = flags(tables.tickets, "auto_fail")
    return share_rows("tickets", failed, known)


@register_grouped("agent_consistency")
def _consistency_groups(groups: Groups, config: KPIConfig):
    """Per group: the std. dev. of its agents' mean adherence (agents with enough scored tickets)."""
    tickets = groups.tables.tickets
    group = groups.codes["tickets"]
    scores = numbers(tickets, "script_adherence").to_numpy()
    agent, _ = pd.factorize(tickets["agent_id"])
    scored = (group >= 0) & (agent >= 0) & ~np.isnan(scores)
    pair, first = np.unique(group[scored].astype(np.int64) * (int(agent.max()) + 1) + agent[scored],
                            return_inverse=True)
    count = np.bincount(first, minlength=len(pair))
    total = np.bincount(first, weights=scores[scored], minlength=len(pair))
    compared = count >= max(config.top_performers_min_n, 1)
    owner = pair[compared] // (int(agent.max()) + 1)
    means = total[compared] / count[compared]
    n = np.bincount(owner, minlength=groups.size)
    cuts = np.cumsum(n)[:-1]
    values = [float(np.std(m)) if len(m) else None for m in np.split(means, cuts)]
    return values, n
