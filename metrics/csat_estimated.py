"""Estimated CSAT: the satisfaction of every ticket, from a model trained on the surveyed ones.

``cxlens.pipelines.csat.estimated_csat`` adds ``csat_good_probability`` to the tickets (the probability of
a rating >= the CSAT threshold, from how the conversation went). This KPI is its mean, in %, so it reads
beside ``csat`` (the share of satisfied answers): always shown with its coverage (the tickets it covers
vs those surveyed) and the estimate's measured calibration (docs/models/csat.md).
"""

from __future__ import annotations

from cxlens.config import KPIConfig
from cxlens.metrics._measures import numbers
from cxlens.metrics._partials import Rows
from cxlens.metrics._registry import Measure, Tables, register_kpi, register_rows

__all__ = ["csat_estimated"]


@register_kpi(name="csat_estimated", unit="%", direction="higher",
              formula="mean estimated P(CSAT >= csat_threshold) over tickets with an estimate x 100",
              requires=("tickets.csat_good_probability",), category="satisfaction")
def csat_estimated(tables: Tables, config: KPIConfig) -> Measure:
    """Estimated CSAT: expected share of satisfied customers over every ticket with an estimate, in %.

    ``n`` is the tickets covered (compare with the surveyed ones behind ``csat``).
    """
    tickets = tables.tickets
    p = numbers(tickets, "csat_good_probability")
    known = p.notna().to_numpy()
    n = int(known.sum())
    if not n:
        return Measure(value=None, n=0, id_kind="ticket_id")
    return Measure(value=100.0 * float(p[known].mean()), n=n, ids=tickets["ticket_id"][known], id_kind="ticket_id")


@register_rows("csat_estimated")
def _csat_estimated_rows(tables: Tables, config: KPIConfig) -> Rows:
    return Rows("tickets", numbers(tables.tickets, "csat_good_probability").to_numpy(), scale=100.0)
