"""Contact-centre KPIs for live contacts (calls, chats): answered, abandoned, queue wait.

Rows are the tickets that carry the flag in question; tickets without it
(an email, say) are not live contacts and are not counted.
"""

from __future__ import annotations

import numpy as np

from cxlens.config import KPIConfig
from cxlens.metrics._measures import flags, mean_measure, numbers, share_measure, share_rows
from cxlens.metrics._partials import Rows
from cxlens.metrics._registry import Measure, Tables, register_kpi, register_rows

__all__ = ["abandonment_rate", "answered_call_rate", "average_wait_time_s"]


@register_kpi(name="answered_call_rate", unit="%", direction="higher",
              formula="answered contacts / offered contacts (answered known) x 100",
              requires=("tickets.answered",), category="contact_center")
def answered_call_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Answered rate: live contacts (calls, chats) answered by an agent, in %."""
    tickets = tables.tickets
    known, answered = flags(tickets, "answered")
    return share_measure(answered, known, tickets["ticket_id"])


@register_rows("answered_call_rate")
def _answered_rows(tables: Tables, config: KPIConfig) -> Rows:
    known, answered = flags(tables.tickets, "answered")
    return share_rows("tickets", answered, known)


@register_kpi(name="abandonment_rate", unit="%", direction="lower",
              formula="abandoned (wait >= abandon_short_s) / offered contacts (minus short abandons) x 100",
              requires=("tickets.abandoned",), category="contact_center")
def abandonment_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Abandonment rate: live contacts that hung up before an answer, in %.

    Short abandons (``wait_time_s`` under ``abandon_short_s``, default 5 s: misdials,
    instant hang-ups) leave both counts; an abandon with unknown wait counts.
    """
    tickets = tables.tickets
    hit, eligible = _abandoned(tickets, config)
    return share_measure(hit, eligible, tickets["ticket_id"])


def _abandoned(tickets, config: KPIConfig) -> tuple[np.ndarray, np.ndarray]:
    """(abandoned, offered) masks without the short abandons."""
    known, abandoned = flags(tickets, "abandoned")
    wait = numbers(tickets, "wait_time_s").to_numpy()
    with np.errstate(invalid="ignore"):
        short = abandoned & (wait < config.abandon_short_s)
    return abandoned & ~short, known & ~short


@register_rows("abandonment_rate")
def _abandonment_rows(tables: Tables, config: KPIConfig) -> Rows:
    return share_rows("tickets", *_abandoned(tables.tickets, config))


@register_kpi(name="average_wait_time_s", unit="s", direction="lower",
              formula="mean(wait_time_s) over contacts with a queue wait recorded",
              requires=("tickets.wait_time_s",), category="contact_center")
def average_wait_time_s(tables: Tables, config: KPIConfig) -> Measure:
    """Average wait time: mean queue wait before an answer or abandon, in seconds."""
    tickets = tables.tickets
    return mean_measure(numbers(tickets, "wait_time_s"), tickets["ticket_id"])


@register_rows("average_wait_time_s")
def _wait_rows(tables: Tables, config: KPIConfig) -> Rows:
    return Rows("tickets", numbers(tables.tickets, "wait_time_s").to_numpy())
