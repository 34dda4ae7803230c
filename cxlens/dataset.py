"""A bundle of validated tables, loaded together and checked across tables.

``load_dataset(tickets=..., messages=...)`` loads each table through
:func:`cxlens.io.load_table`, then:

* quarantines messages whose ``ticket_id`` is not a ticket (reason given);
* fills ticket fields that are missing from the messages: ``first_response_at``
  (first public reply by a human agent: bots, system messages and internal
  notes never count) and ``agent_replies`` (public human agent replies).
  Existing values are kept; only missing ones are derived.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cxlens.errors import DataError
from cxlens.io import REASON_COL, LoadedTable, load_table, write_quarantine

__all__ = ["Dataset", "derive_ticket_fields", "load_dataset"]

log = logging.getLogger(__name__)
TABLES = ("tickets", "messages", "accounts", "surveys", "mentions")


@dataclass
class Dataset:
    """Validated tables (any may be absent) and the rows set aside while loading."""

    tables: dict[str, LoadedTable] = field(default_factory=dict)

    def frame(self, name: str) -> pd.DataFrame | None:
        table = self.tables.get(name)
        return None if table is None else table.frame

    @property
    def tickets(self) -> pd.DataFrame | None:
        return self.frame("tickets")

    @property
    def messages(self) -> pd.DataFrame | None:
        return self.frame("messages")

    @property
    def accounts(self) -> pd.DataFrame | None:
        return self.frame("accounts")

    @property
    def surveys(self) -> pd.DataFrame | None:
        return self.frame("surveys")

    @property
    def mentions(self) -> pd.DataFrame | None:
        return self.frame("mentions")

    def summary(self) -> list[dict[str, int | str]]:
        """Per table: read, used, quarantined (read = used + quarantined)."""
        return [t.summary() for t in self.tables.values()]

    def n_quarantined(self) -> int:
        return sum(len(t.quarantine) for t in self.tables.values())

    def write_quarantine(self, out_dir: str | Path) -> dict[str, Path]:
        return write_quarantine(self.tables.values(), out_dir)


def derive_ticket_fields(tickets: pd.DataFrame, messages: pd.DataFrame) -> pd.DataFrame:
    """Fill ``first_response_at`` and ``agent_replies`` from messages where missing.

    A response is a public message by a human agent (``author_role ==
    "agent"``) sent at or after the ticket was created.
    """
    agent = messages.loc[messages["author_role"] == "agent", ["ticket_id", "sent_at"]]
    created = tickets.set_index("ticket_id")["created_at"]
    created = created[~created.index.duplicated()]
    # reindex, not map: Series.map with an empty datetime mapping fails in pandas 3
    agent = agent[agent["sent_at"] >= pd.Series(created.reindex(agent["ticket_id"].to_numpy()).array,
                                                index=agent.index)]
    grouped = agent.groupby("ticket_id")["sent_at"]
    out = tickets.copy()
    # reindex again: no agent message at all is an empty mapping
    first = pd.Series(grouped.min().reindex(out["ticket_id"].to_numpy()).array, index=out.index)
    replies = out["ticket_id"].map(grouped.size()).fillna(0).astype("float64")
    has_messages = out["ticket_id"].isin(messages["ticket_id"])
    if "first_response_at" in out:
        out["first_response_at"] = out["first_response_at"].fillna(first)
    else:
        out["first_response_at"] = first
    if "agent_replies" in out:
        out["agent_replies"] = out["agent_replies"].fillna(replies.where(has_messages))
    else:
        out["agent_replies"] = replies.where(has_messages)
    return out


def _orphans(messages: LoadedTable, tickets: pd.DataFrame) -> None:
    frame = messages.frame
    orphan = ~frame["ticket_id"].isin(tickets["ticket_id"])
    if orphan.any():
        bad = frame.loc[orphan].copy()
        bad[REASON_COL] = "ticket_id is not in the tickets table"
        messages.quarantine = pd.concat([messages.quarantine, bad], ignore_index=True)
        messages.frame = frame.loc[~orphan].reset_index(drop=True)
        log.warning("messages: %d rows refer to unknown tickets and were quarantined", int(orphan.sum()))


def load_dataset(*, tickets: str | Path | None = None, messages: str | Path | None = None,
                 accounts: str | Path | None = None, surveys: str | Path | None = None,
                 mentions: str | Path | None = None, mapping: Mapping[str, str] | None = None,
                 encoding: str = "utf-8") -> Dataset:
    """Load and cross-check the given tables. See the module docstring.

    ``mapping`` renames columns (their name -> ours) in every table that has them.
    """
    paths = {"tickets": tickets, "messages": messages, "accounts": accounts, "surveys": surveys,
             "mentions": mentions}
    if not any(paths.values()):
        raise DataError("No input given: pass at least --tickets (or --mentions / --accounts).")
    data = Dataset()
    for name in TABLES:
        if paths[name] is not None:
            data.tables[name] = load_table(paths[name], name, mapping=mapping, encoding=encoding)
    if "tickets" in data.tables and "messages" in data.tables:
        _orphans(data.tables["messages"], data.tickets)
        data.tables["tickets"].frame = derive_ticket_fields(data.tickets, data.messages)
    return data
